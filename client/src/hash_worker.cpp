#include "hash_worker.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

namespace dfd::client {

HashWorker::HashWorker(std::function<void()> on_done, std::size_t ring_bytes)
    : on_done_(std::move(on_done)), ring_(std::max<std::size_t>(ring_bytes, 64u << 10)) {
  thread_ = std::thread([this] { run(); });
}

HashWorker::~HashWorker() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_work_.notify_all();
  thread_.join();
}

std::shared_ptr<HashWorker::Stream> HashWorker::open(const std::string& alg) {
  return std::make_shared<Stream>(alg);
}

void HashWorker::update(const std::shared_ptr<Stream>& s, const char* p, std::size_t n) {
  // Pieces of at most half the ring, each contiguous in the ring.
  const std::size_t piece = ring_.size() / 2;
  while (n > 0) {
    std::size_t k = std::min({n, piece, ring_.size() - wpos_});
    push(s, p, k);
    p += k;
    n -= k;
  }
}

void HashWorker::push(const std::shared_ptr<Stream>& s, const char* p, std::size_t n) {
  {
    std::unique_lock<std::mutex> lk(mu_);
    // The free space starts at wpos_ (jobs free the ring in FIFO order).
    cv_room_.wait(lk, [&] { return ring_.size() - used_ >= n; });
  }
  std::memcpy(ring_.data() + wpos_, p, n);
  bool wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.push_back(Job{s, wpos_, n, false});
    used_ += n;
    wake = worker_idle_;
  }
  if (wake) cv_work_.notify_one();
  wpos_ = (wpos_ + n) % ring_.size();
}

void HashWorker::finish(const std::shared_ptr<Stream>& s) {
  bool wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.push_back(Job{s, 0, 0, true});
    wake = worker_idle_;
  }
  if (wake) cv_work_.notify_one();
}

void HashWorker::start_writeback(int fd, std::uint64_t off, std::uint64_t len) {
  bool wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    Job j;
    j.fd = fd;
    j.off = static_cast<std::size_t>(off);
    j.len = static_cast<std::size_t>(len);
    jobs_.push_back(std::move(j));
    wake = worker_idle_;
  }
  if (wake) cv_work_.notify_one();
}

void HashWorker::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    worker_idle_ = true;
    cv_work_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
    worker_idle_ = false;
    if (stop_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    if (job.fd >= 0) {
      ::sync_file_range(job.fd, static_cast<off_t>(job.off), static_cast<off_t>(job.len),
                        SYNC_FILE_RANGE_WRITE);
      lk.lock();
      continue;
    }
    if (job.final) {
      job.stream->digest_ = job.stream->hasher_.final_hex();
      job.stream->done_.store(true, std::memory_order_release);
      if (on_done_) on_done_();
    } else {
      job.stream->hasher_.update(ring_.data() + job.off, job.len);
    }
    job.stream.reset();
    lk.lock();
    if (job.len) {
      used_ -= job.len;
      cv_room_.notify_one();
    }
  }
}

}  // namespace dfd::client
