#include "group_commit.hpp"

namespace dfd::auth_common {

Status GroupCommit::submit(const DownloadTokenRecord& record) {
  Pending me;
  me.record = &record;
  std::unique_lock<std::mutex> l(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leading_ || queue_.front() != &me) {
      me.cv.wait(l);
      continue;
    }
    leading_ = true;
    std::vector<Pending*> batch;
    batch.swap(queue_);
    l.unlock();
    Status st = guard("group commit", [&]() -> Status {
      std::vector<const DownloadTokenRecord*> records;
      records.reserve(batch.size());
      for (Pending* p : batch) records.push_back(p->record);
      return write_(records);
    });
    l.lock();
    for (Pending* p : batch) {
      p->status = st;
      p->done = true;
      if (p != &me) p->cv.notify_one();
    }
    leading_ = false;
    if (!queue_.empty()) queue_.front()->cv.notify_one();
  }
  return me.status;
}

}  // namespace dfd::auth_common
