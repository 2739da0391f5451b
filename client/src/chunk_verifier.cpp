#include "chunk_verifier.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace dfd::client {

ChunkVerifier::ChunkVerifier(int fd, const std::string& alg, std::function<void()> wake)
    : fd_(fd), hasher_(alg), wake_(std::move(wake)) {
  thread_ = std::thread([this] { run(); });
}

ChunkVerifier::~ChunkVerifier() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ChunkVerifier::submit(Job job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

std::vector<ChunkVerifier::Result> ChunkVerifier::take() {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<Result> out;
  out.swap(done_);
  return out;
}

std::size_t ChunkVerifier::pending() const {
  std::lock_guard<std::mutex> lk(mu_);
  return jobs_.size() + in_progress_ + done_.size();
}

ChunkVerifier::Result ChunkVerifier::verify(const Job& job) {
  Result r;
  r.job = job;
  hasher_.reset();
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::uint64_t base = job.offset - job.offset % page;
  std::size_t len = static_cast<std::size_t>(job.offset + job.length - base);
  void* map = job.length ? ::mmap(nullptr, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd_,
                                  static_cast<off_t>(base))
                         : MAP_FAILED;
  if (map != MAP_FAILED) {
    hasher_.update(static_cast<const char*>(map) + (job.offset - base),
                   static_cast<std::size_t>(job.length));
    ::munmap(map, len);
  } else {
    std::vector<char> buf(1 << 20);
    std::uint64_t off = job.offset, left = job.length;
    while (left) {
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      ssize_t n = ::pread(fd_, buf.data(), want, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        r.io_error = n < 0 ? errno : EIO;
        return r;
      }
      hasher_.update(buf.data(), static_cast<std::size_t>(n));
      off += static_cast<std::uint64_t>(n);
      left -= static_cast<std::uint64_t>(n);
    }
  }
  r.ok = hasher_.final_hex() == job.expected;
  return r;
}

void ChunkVerifier::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
    if (stop_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++in_progress_;
    lk.unlock();
    Result r = verify(job);
    lk.lock();
    --in_progress_;
    done_.push_back(std::move(r));
    lk.unlock();
    if (wake_) wake_();
    lk.lock();
  }
}

}  // namespace dfd::client
