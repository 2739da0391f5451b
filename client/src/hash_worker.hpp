// HashWorker: chunk digests computed on one worker thread from copies of the received bytes, so
// the download loop's thread only moves bytes (recv, pwrite, one memcpy into a ring) and the two
// hashing streams (chunk digests here, the whole-file digest in PrefixHasher) run on other cores.
//
// The received bytes are copied into a fixed ring (`ring_bytes`, default 8 MiB): memory is
// bounded by the ring, never by the file size. update() blocks while the ring is full (the worker
// hashes faster than a network delivers, so this is rare back-pressure, not a stall).
//
// Thread-safety: open()/update()/finish() are called from one producer thread (the loop); the
// worker thread only touches the ring range it was handed and the Stream it hashes. A Stream's
// result (done(), digest()) may be read by the producer once done() is true (acquire/release).
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
  explicit HashWorker(std::function<void()> on_done, std::size_t ring_bytes = 8u << 20);
  ~HashWorker();
  HashWorker(const HashWorker&) = delete;
  HashWorker& operator=(const HashWorker&) = delete;

  std::shared_ptr<Stream> open(const std::string& alg);
  void update(const std::shared_ptr<Stream>& s, const char* p, std::size_t n);
  // No more bytes for `s`: its digest is computed after every queued byte of it.
  void finish(const std::shared_ptr<Stream>& s);
  // Starts writeback of a written file range on the worker (sync_file_range WRITE, no wait), so
  // the closing fsync has little left and the loop thread does not pay for it.
  void start_writeback(int fd, std::uint64_t off, std::uint64_t len);

 private:
  struct Job {
    std::shared_ptr<Stream> stream;
    std::size_t off = 0;
    std::size_t len = 0;
    bool final = false;
    int fd = -1;  // writeback job: [off, off + len) of fd
  };
  void push(const std::shared_ptr<Stream>& s, const char* p, std::size_t n);
  void run();

  std::function<void()> on_done_;
  std::vector<char> ring_;
  std::size_t wpos_ = 0;  // producer only
  std::mutex mu_;
  std::condition_variable cv_work_;  // worker waits for jobs
  std::condition_variable cv_room_;  // producer waits for ring space
  std::deque<Job> jobs_;             // guarded by mu_
  std::size_t used_ = 0;             // bytes of the ring held by queued jobs; guarded by mu_
  bool stop_ = false;                // guarded by mu_
  bool worker_idle_ = false;         // guarded by mu_
  std::thread thread_;
};

}  // namespace dfd::client
