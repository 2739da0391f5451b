// The output lock of `dfd get` (issue 13): two dfd processes downloading into the same PATH would
// both write PATH.dfd-part and PATH.dfd-state; the second one is refused at once and told who
// holds the path.
//
// The lock is flock(LOCK_EX) on PATH.dfd-lock, a small regular file that says who holds it:
//   dfd-lock
//   pid 1234
//   host build-7
//   since 1764486723        (Unix seconds)
// It is opened safely (no symbolic link, no FIFO, no hard link to another file: refused with a
// plain error), and removed when the lock is released. A lock file left behind by a dfd that was
// killed is stale: its flock is free and the next dfd simply takes it. A lock file removed and
// created again by its holder while another dfd opens it is detected (inode check) and retried.
//
// Not thread-safe; one OutputLock per path per process.
#pragma once

#include <string>

namespace dfd::client {

class OutputLock {
 public:
  OutputLock() = default;  // holds nothing
  ~OutputLock();           // release(): removes the lock file and closes it
  OutputLock(OutputLock&& other) noexcept;
  OutputLock& operator=(OutputLock&& other) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  // Takes the lock of the output `path` (the file PATH.dfd-lock; its folder must exist).
  // Throws CliError(kLocked) when another process holds it: "PATH is being downloaded by dfd pid
  // 1234 on HOST since 07:12:03 (PATH.dfd-lock)"; CliError(kLocalIo) when the lock file cannot be
  // opened or is not a plain file.
  static OutputLock acquire(const std::string& path);

  bool held() const { return fd_ >= 0; }
  const std::string& lock_path() const { return lock_path_; }
  void release();

 private:
  int fd_ = -1;
  std::string lock_path_;
};

// The lock file of an output path: PATH.dfd-lock.
std::string lock_path_of(const std::string& path);

// The holder line of a lock file's text (as written above; anything else gives "another dfd"):
// "dfd pid 1234 on HOST since 07:12:03" (a date too when not today, local time). Pure apart from
// the local time zone; the text is untrusted and goes through printable().
std::string describe_lock_holder(const std::string& lock_text);

}  // namespace dfd::client
