// dfd_auth_common — group commit of issued download tokens.
//
// Concurrent issue_download_token() calls share one transaction: the caller that finds no commit
// running becomes the leader and writes every queued record (its own first) with one call of the
// store's `write` function; records queued meanwhile wait for the next one, led by the oldest of
// them. Each waiter sleeps on its own condition variable, so a commit wakes only its own callers
// and the next leader. Every caller of a batch gets the batch's Status.
//
// Thread-safety: submit() from any thread; `write` runs on one caller's thread at a time and
// must not throw.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "dfd/auth.hpp"

namespace dfd::auth_common {

class GroupCommit {
 public:
  using Write = std::function<Status(const std::vector<const DownloadTokenRecord*>&)>;
  explicit GroupCommit(Write write) : write_(std::move(write)) {}

  // Returns once `record` was written (with whatever else was queued) or its batch failed.
  Status submit(const DownloadTokenRecord& record);

 private:
  struct Pending {
    const DownloadTokenRecord* record;
    std::condition_variable cv;
    bool done = false;  // guarded by mu_
    Status status;      // guarded by mu_ until done
  };

  Write write_;
  std::mutex mu_;
  std::vector<Pending*> queue_;  // guarded by mu_; entries live on their callers' stacks
  bool leading_ = false;         // guarded by mu_: a commit is running
};

}  // namespace dfd::auth_common
