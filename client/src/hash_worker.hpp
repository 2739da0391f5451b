// HashWorker: chunk digests computed on one worker thread from copies of the received bytes, so
// the download loop's thread only moves bytes (recv, one memcpy into a block, pwrite of whole
// blocks) and the two hashing streams (chunk digests here, the whole-file digest in PrefixHasher)
// run on other cores.
//
// Bytes travel in blocks of kBlock bytes from a pool of at most `max_blocks` (allocated on first
// use): the loop fills a block per transfer, writes it to the file and submit()s it; the worker
// hashes it and puts it back. Memory is bounded by the pool, never by the file size. acquire()
// waits while every block is in use; the pool must hold more blocks than transfers can keep
// half-filled at once (the caller sizes it), so queued blocks always come back.
//
// Thread-safety: acquire()/release()/submit()/finish()/start_writeback() are called from one
// producer thread (the loop); the worker thread only touches the blocks it was handed and the
// Stream it hashes. A Stream's result may be read by the producer once done() is true.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hasher.hpp"

namespace dfd::client {

class HashWorker {
 public:
  // One digest being computed (one chunk copy). Shared by the producer and queued jobs, so a
  // cancelled transfer may drop its handle while jobs for it are still queued.
  class Stream {
   public:
    explicit Stream(const std::string& alg) : hasher_(alg) {}
    bool done() const { return done_.load(std::memory_order_acquire); }
    const std::string& digest() const { return digest_; }  // valid once done()

   private:
    friend class HashWorker;
    Hasher hasher_;       // only the worker thread uses it after open()
    std::string digest_;  // written by the worker before done_ is set
    std::atomic<bool> done_{false};
  };

  // `on_done` runs on the worker thread after a stream's digest is ready (e.g. to wake the loop).
  static constexpr std::size_t kBlock = 256u << 10;

  explicit HashWorker(std::function<void()> on_done, std::size_t max_blocks = 32);
  ~HashWorker();
  HashWorker(const HashWorker&) = delete;
  HashWorker& operator=(const HashWorker&) = delete;

  std::shared_ptr<Stream> open(const std::string& alg);
  // A free block of kBlock bytes (waits while all are in use).
  char* acquire();
  // Gives back a block that will not be submitted.
  void release(char* block);
  // Hashes the first `n` bytes of `block` into `s` (after everything queued before), then frees it.
  void submit(const std::shared_ptr<Stream>& s, char* block, std::size_t n);
  // No more bytes for `s`: its digest is computed after every queued byte of it.
  void finish(const std::shared_ptr<Stream>& s);
  // Starts writeback of a written file range on the worker (sync_file_range WRITE, no wait), so
  // the closing fsync has little left and the loop thread does not pay for it.
  void start_writeback(int fd, std::uint64_t off, std::uint64_t len);

 private:
  struct Job {
    std::shared_ptr<Stream> stream;
    char* block = nullptr;
    std::uint64_t off = 0;  // writeback job: [off, off + len) of fd
    std::uint64_t len = 0;
    bool final = false;
    int fd = -1;
  };
  void push(Job job);
  void run();

  std::function<void()> on_done_;
  std::size_t max_blocks_;
  std::mutex mu_;
  std::condition_variable cv_work_;              // worker waits for jobs
  std::condition_variable cv_room_;              // producer waits for a free block
  std::deque<Job> jobs_;                         // guarded by mu_
  std::vector<std::unique_ptr<char[]>> blocks_;  // every block allocated; guarded by mu_
  std::vector<char*> free_;                      // guarded by mu_
  bool stop_ = false;                            // guarded by mu_
  bool worker_idle_ = false;                     // guarded by mu_
  std::thread thread_;
};

}  // namespace dfd::client
