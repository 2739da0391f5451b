// PartStore: a download's files next to the output PATH, from the first open to the final rename.
//
//   PATH.dfd-part   the data, written at each chunk's offset (part_file.hpp opens it safely);
//   PATH.dfd-state  which chunks are verified (state_file.hpp), saved while the download runs.
//
// open() refuses an existing output (unless forced) and anything planted at our paths, resumes a
// part whose state file matches the manifest (or starts over: restarted()), and creates a fresh
// part otherwise. commit() makes the finished part the output: fsync, rename, fsync of the
// directory, state file removed. Errors are plain messages naming the path (exit kLocalIo).
//
// Nothing useless is kept (issue 13): a fresh part is sparse; with `preallocate` it is allocated
// whole once the first chunk of the run is verified (chunk_verified()), never before; discard()
// removes a part holding no verified chunk and its state file when the download fails
// (not when it is interrupted). A disk
// that fills up is reported with the path, the bytes still needed and the bytes free.
//
// Thread-safety: none; owned by the download loop's thread (the HashWorker only gets fd() for
// writeback hints).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "manifest.hpp"

namespace dfd::client {

// "cannot write PATH: No space left on device (disk full or file size limit)".
std::string io_message(const std::string& what, const std::string& path, int err);

class PartStore {
 public:
  PartStore(const Manifest& manifest, std::string output, bool force, bool preallocate);
  ~PartStore();
  PartStore(const PartStore&) = delete;
  PartStore& operator=(const PartStore&) = delete;

  // Opens (resumes or creates) the part. Returns 0, or an exit code (kExists, kLocalIo) with
  // `error` set. After success: fd(), resumed_chunks(), restarted().
  int open(std::string& error);

  int fd() const { return fd_; }
  const std::string& part_path() const { return part_path_; }
  const std::string& state_path() const { return state_path_; }
  // Chunks trusted from the state file (all false for a fresh part).
  const std::vector<bool>& resumed_chunks() const { return resumed_; }
  bool resumed() const { return resumed_any_; }
  bool restarted() const { return restarted_; }

  // Writes `n` bytes at `offset` (in pieces of at most 32 KiB). Returns 0 or errno.
  int write_at(const char* data, std::size_t n, std::uint64_t offset);
  // The message for a failed write_at (errno `err`): how much space is needed where, when full.
  std::string write_error(int err) const;

  // A chunk was verified: the first one preallocates the part (with `preallocate`). Returns ""
  // or the error.
  std::string chunk_verified();

  // The download failed with no verified chunk in the part: removes the part and the state file.
  void discard();

  // Something verified changed: the next save_if_changed() writes the state file.
  void mark_changed() { changed_ = true; }
  // Writes the state file (`verified`: one flag per chunk) when marked changed, or always with
  // `always`. Returns "" or the error message.
  std::string save(const std::vector<bool>& verified, bool always);

  // Re-hashes every chunk flagged in `bits` from the part; clears the bad ones. Returns the
  // number cleared, or -1 on a read error.
  long reverify(std::vector<bool>& bits);

  // The download is complete and verified: the part becomes the output. Returns "" or the error.
  std::string commit();

 private:
  const Manifest& manifest_;
  std::string output_;
  std::string part_path_;
  std::string state_path_;
  bool force_ = false;
  bool preallocate_ = true;
  bool preallocated_ = false;
  int fd_ = -1;
  std::vector<bool> resumed_;
  bool resumed_any_ = false;
  bool restarted_ = false;
  bool changed_ = false;
};

}  // namespace dfd::client
