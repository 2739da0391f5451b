// PrefixHasher: the whole-file digest, computed by one background thread over the verified prefix
// of the `.part` file while the download goes on, so almost nothing is left to hash after the last
// byte arrives. It reads back with pread (page cache) in 1 MiB blocks: memory is one block.
//
// Thread-safety: advance()/finish()/hashed() may be called from one controlling thread; the
// worker only reads the file range [0, advanced) which the caller guarantees nobody writes again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "hasher.hpp"

namespace dfd::client {

class PrefixHasher {
 public:
  // `fd` stays owned by the caller and must stay open until finish() returns or the destructor.
  PrefixHasher(int fd, const std::string& alg, std::uint64_t size);
  ~PrefixHasher();
  PrefixHasher(const PrefixHasher&) = delete;
  PrefixHasher& operator=(const PrefixHasher&) = delete;

  // The first `bytes` of the file are verified and final (monotonic; smaller values are ignored).
  void advance(std::uint64_t bytes);
  // Waits until all `size` bytes are hashed (advance(size) must have been called). Returns true
  // and the hex digest, or false and an error text (read error).
  bool finish(std::string& out);
  std::uint64_t hashed() const;  // bytes hashed so far (grows block by block)
  bool failed() const;           // a read error stopped it (finish() says which)

 private:
  void run();

  int fd_;
  std::uint64_t size_;
  Hasher hasher_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t target_ = 0;        // guarded by mu_
  std::uint64_t done_ = 0;          // guarded by mu_
  int error_ = 0;                   // guarded by mu_
  bool stop_ = false;               // guarded by mu_
  std::atomic<bool> abort_{false};  // set with stop_; checked between blocks
  std::thread thread_;
};

}  // namespace dfd::client
