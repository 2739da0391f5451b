// The download's data file `PATH.dfd-part`, opened safely (issue 11):
//   - never through a symbolic link: anything planted at the part or state paths that is not a
//     regular file (a symlink to a victim file, a FIFO, a directory) is refused with a plain
//     error, and every open uses O_NOFOLLOW; a fresh part is created with O_CREAT|O_EXCL after an
//     old regular one is removed, so a link planted between the check and the open fails too;
//   - a part to resume must be a regular file with one link (a hard link to another file is
//     refused: writing into it would change that file);
//   - before a download starts, the free space of the file system is checked, and a shortfall is
//     reported with the path, the space needed and the space free (space_message(); also used
//     when the disk fills up later);
//   - a fresh part is sparse (nothing allocated): preallocate_part() allocates it, which the
//     engine does only once the first chunk is verified (issue 13: a failure keeps nothing
//     useless).
// Errors are plain messages for the report (the caller exits kLocalIo). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace dfd::client {

struct PartOpen {
  int fd = -1;        // open O_RDWR, or -1 with `error`
  std::string error;  // plain message naming the path
};

// "" when `path` is absent or a regular file; otherwise why it is refused ("... is a symbolic
// link; dfd does not write through links: remove it and run again").
std::string refuse_non_regular(const std::string& path);

// Opens an existing part (exactly `size` bytes) to resume it; checks that the space still to be
// allocated in it (a sparse part) is free.
PartOpen open_part_to_resume(const std::string& path, std::uint64_t size);

// Creates a fresh sparse part of `size` bytes (removing an old regular one), after checking the
// free space. On failure nothing is left at `path`.
PartOpen create_part(const std::string& path, std::uint64_t size);

// Allocates the whole part (posix_fallocate; nothing where the file system cannot). Returns "" or
// the error (space_message() when the disk is full).
std::string preallocate_part(int fd, const std::string& path, std::uint64_t size);

// Bytes free for us on the file system holding `path` (UINT64_MAX when unknown).
std::uint64_t free_bytes(const std::string& path);

// Bytes of `fd`'s file still to be allocated to hold `size` bytes (0 when unknown).
std::uint64_t unallocated_bytes(int fd, std::uint64_t size);

// "not enough free space for PATH: the download needs 24.0 MiB (25165824 bytes) more, DIR has
// 7.9 MiB (8282112 bytes) free; make room (or use -o on another disk) and run again". With a
// `cause` ("cannot write PATH (No space left on device)") that replaces the words before the colon.
std::string space_message(const std::string& path, std::uint64_t needed, std::uint64_t free,
                          const std::string& cause = "");

}  // namespace dfd::client
