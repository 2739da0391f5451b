// A small tmpfs for disk-full tests (client_hostile_cli_test, client_engine_test): mounted at a
// directory while the object lives, unmounted when it goes (also when the test fails).
#pragma once

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "harness.hpp"

namespace dfd::test {

// A tmpfs of `size` mounted at `dir` while it lives (needs root; ok() is false otherwise).
class SmallDisk {
 public:
  SmallDisk(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    ok_ = run({"mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir}).status == 0;
  }
  ~SmallDisk() {
    if (ok_) run({"umount", "-l", dir_});
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool ok() const { return ok_; }

  // Fills the file system up to its last byte with `file`.
  static void fill(const std::string& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string block(1 << 16, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    while (::write(fd, block.data(), 1) > 0) {
    }
    ::close(fd);
  }

  // Bytes free on the file system (as root sees them).
  std::uint64_t free_bytes() const {
    struct statvfs vfs {};
    if (::statvfs(dir_.c_str(), &vfs) != 0) return 0;
    return static_cast<std::uint64_t>(vfs.f_bfree) * vfs.f_frsize;
  }

 private:
  std::string dir_;
  bool ok_ = false;
};

}  // namespace dfd::test
