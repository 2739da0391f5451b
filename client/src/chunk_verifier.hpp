// ChunkVerifier: checks received chunks against their manifest digests on a background thread,
// reading them back from the `.part` file (page cache, through mmap), so the download loop only
// moves bytes. Results are collected by the loop with take(); `wake` is called after each result
// (the loop passes curl_multi_wakeup).
//
// Thread-safety: submit()/take()/pending() from one controlling thread; the worker reads only
// ranges the caller no longer writes (a chunk is submitted after its transfer ended).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hasher.hpp"

namespace dfd::client {

class ChunkVerifier {
 public:
  struct Job {
    std::size_t chunk = 0;
    int server = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::string expected;                         // lower-case hex
    std::chrono::steady_clock::time_point start;  // when the request started (for speed stats)
  };
  struct Result {
    Job job;
    bool ok = false;
    int io_error = 0;  // errno when the range could not be read back
  };

  // `fd` stays owned by the caller and open until the destructor returns.
  ChunkVerifier(int fd, const std::string& alg, std::function<void()> wake);
  ~ChunkVerifier();
  ChunkVerifier(const ChunkVerifier&) = delete;
  ChunkVerifier& operator=(const ChunkVerifier&) = delete;

  void submit(Job job);
  std::vector<Result> take();
  std::size_t pending() const;  // submitted and not yet taken

 private:
  void run();
  Result verify(const Job& job);

  int fd_;
  Hasher hasher_;  // worker thread only
  std::function<void()> wake_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;         // guarded by mu_
  std::vector<Result> done_;     // guarded by mu_
  std::size_t in_progress_ = 0;  // guarded by mu_
  bool stop_ = false;            // guarded by mu_
  std::thread thread_;
};

}  // namespace dfd::client
