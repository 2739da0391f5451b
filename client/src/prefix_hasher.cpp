#include "prefix_hasher.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace dfd::client {

PrefixHasher::PrefixHasher(int fd, const std::string& alg, std::uint64_t size)
    : fd_(fd), size_(size), hasher_(alg) {
  thread_ = std::thread([this] { run(); });
}

PrefixHasher::~PrefixHasher() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    abort_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PrefixHasher::advance(std::uint64_t bytes) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (bytes <= target_) return;
    target_ = std::min(bytes, size_);
  }
  cv_.notify_all();
}

bool PrefixHasher::failed() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_ != 0;
}

std::uint64_t PrefixHasher::hashed() const {
  std::lock_guard<std::mutex> lk(mu_);
  return done_;
}

bool PrefixHasher::finish(std::string& out) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return error_ != 0 || done_ == size_; });
  if (error_) {
    out = std::string("cannot read back the downloaded data: ") + std::strerror(error_);
    return false;
  }
  out = hasher_.final_hex();
  return true;
}

void PrefixHasher::run() {
  constexpr std::size_t kBlock = 1 << 20;
  std::vector<char> buf(kBlock);
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stop_ || done_ < target_; });
    if (stop_) return;
    std::uint64_t from = done_;
    std::uint64_t to = target_;
    lk.unlock();
    int err = 0;
    while (from < to && !abort_) {
      // pread from the page cache into one small block: measured cheaper in CPU than mapping
      // windows (MAP_POPULATE + munmap cost more than the copy), and the block stays in cache
      // for the hash. Writeback is started by the download loop's HashWorker, not here.
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, to - from));
      ssize_t n = ::pread(fd_, buf.data(), want, static_cast<off_t>(from));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        err = n < 0 ? errno : EIO;
        break;
      }
      hasher_.update(buf.data(), static_cast<std::size_t>(n));
      from += static_cast<std::uint64_t>(n);
      std::lock_guard<std::mutex> progress(mu_);  // hashed() moves block by block (for -o -)
      done_ = from;
    }
    lk.lock();
    done_ = from;
    if (err) {
      error_ = err;
      cv_.notify_all();
      return;
    }
    cv_.notify_all();
  }
}

}  // namespace dfd::client
