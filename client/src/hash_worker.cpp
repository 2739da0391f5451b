#include "hash_worker.hpp"

#include <fcntl.h>

#include <algorithm>

namespace dfd::client {

HashWorker::HashWorker(std::function<void()> on_done, std::size_t max_blocks)
    : on_done_(std::move(on_done)), max_blocks_(std::max<std::size_t>(max_blocks, 2)) {
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

char* HashWorker::acquire() {
  std::unique_lock<std::mutex> lk(mu_);
  if (free_.empty() && blocks_.size() < max_blocks_) {
    blocks_.push_back(std::unique_ptr<char[]>(new char[kBlock]));
    return blocks_.back().get();
  }
  cv_room_.wait(lk, [&] { return !free_.empty(); });
  char* b = free_.back();
  free_.pop_back();
  return b;
}

void HashWorker::release(char* block) {
  if (!block) return;
  std::lock_guard<std::mutex> lk(mu_);
  free_.push_back(block);
  cv_room_.notify_one();
}

void HashWorker::push(Job job) {
  bool wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.push_back(std::move(job));
    wake = worker_idle_;
  }
  if (wake) cv_work_.notify_one();
}

void HashWorker::submit(const std::shared_ptr<Stream>& s, char* block, std::size_t n) {
  Job j;
  j.stream = s;
  j.block = block;
  j.len = n;
  push(std::move(j));
}

void HashWorker::finish(const std::shared_ptr<Stream>& s) {
  Job j;
  j.stream = s;
  j.final = true;
  push(std::move(j));
}

void HashWorker::start_writeback(int fd, std::uint64_t off, std::uint64_t len) {
  Job j;
  j.fd = fd;
  j.off = off;
  j.len = len;
  push(std::move(j));
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
    } else if (job.final) {
      job.stream->digest_ = job.stream->hasher_.final_hex();
      job.stream->done_.store(true, std::memory_order_release);
      if (on_done_) on_done_();
    } else {
      job.stream->hasher_.update(job.block, static_cast<std::size_t>(job.len));
    }
    job.stream.reset();
    lk.lock();
    if (job.block) {
      free_.push_back(job.block);
      cv_room_.notify_one();
    }
  }
}

}  // namespace dfd::client
