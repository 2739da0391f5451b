// The download's data file `PATH.dfd-part`, opened safely (issue 11):
//   - never through a symbolic link: anything planted at the part or state paths that is not a
//     regular file (a symlink to a victim file, a FIFO, a directory) is refused with a plain
//     error, and every open uses O_NOFOLLOW; a fresh part is created with O_CREAT|O_EXCL after an
//     old regular one is removed, so a link planted between the check and the open fails too;
//   - a part to resume must be a regular file with one link (a hard link to another file is
//     refused: writing into it would change that file);
//   - before preallocating, the free space of the file system is checked, and a shortfall is
//     reported with the space needed and the space free.
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

// Creates a fresh part of `size` bytes (removing an old regular one) and preallocates it
// (posix_fallocate, else ftruncate), after checking the free space. On failure nothing is left
// at `path`.
PartOpen create_part(const std::string& path, std::uint64_t size);

}  // namespace dfd::client
