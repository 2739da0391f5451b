#include "token_announcer.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "dfd/events.hpp"

namespace dfd::info {

TokenAnnouncer::TokenAnnouncer(Publish publish, std::size_t max_batch, std::size_t max_in_flight,
                               std::chrono::microseconds linger)
    : publish_(std::move(publish)),
      max_batch_(std::max<std::size_t>(1, max_batch)),
      max_in_flight_(std::max<std::size_t>(1, max_in_flight)),
      linger_(std::max(std::chrono::microseconds(0), linger)) {}

TokenAnnouncer::Arrival::Arrival(TokenAnnouncer& a) noexcept : a_(&a) {
  std::lock_guard<std::mutex> g(a.mu_);
  ++a.on_the_way_;
}

TokenAnnouncer::Arrival::~Arrival() {
  if (!a_) return;
  std::lock_guard<std::mutex> g(a_->mu_);
  if (--a_->on_the_way_ == 0) a_->wake_front();  // a lingering publisher may go now
}

Status TokenAnnouncer::announce(const DownloadTokenRecord& record,
                                std::chrono::milliseconds timeout, Arrival* arrival) noexcept {
  Slot me;
  me.record = &record;
  me.queued = Clock::now();
  me.deadline = me.queued + timeout;
  try {
    std::unique_lock<std::mutex> l(mu_);
    pending_.push_back(&me);
    if (arrival && arrival->a_ == this) {
      arrival->a_ = nullptr;
      if (--on_the_way_ == 0) wake_front();  // a lingering publisher may go now
    }
    if (pending_.size() == max_batch_) wake_front();  // a full batch need not linger
    for (;;) {
      if (me.done) return me.status;
      if (!me.taken && Clock::now() >= me.deadline) {
        withdraw(&me);
        return Status::DeadlineExceeded("token.issued: no publish slot within " +
                                        std::to_string(timeout.count()) + " ms");
      }
      if (in_flight_ < max_in_flight_ && !me.taken && pending_.front() == &me) {
        // Idle and the oldest waiting record: publish the oldest records (its own first), unless
        // records on their way should join them and it may still wait for them.
        Clock::time_point go = me.queued + linger_;
        if (on_the_way_ == 0 || pending_.size() >= max_batch_ || Clock::now() >= go) {
          publish_next_batch(l);
          continue;
        }
        // Lingering: woken by the last arrival on its way, a full batch, or the clock.
        me.cv.wait_until(l, std::min(go, me.deadline));
        continue;
      }
      if (me.taken) {
        // In the batch being published: its publisher reports back within the batch's deadline.
        me.cv.wait(l);
        continue;
      }
      me.cv.wait_until(l, me.deadline);  // the deadline is checked at the top
    }
  } catch (...) {
    // Only allocations throw, and never while `me` is part of a batch (publish_next_batch
    // allocates before it marks anything taken and catches everything after): withdraw it.
    std::lock_guard<std::mutex> g(mu_);
    if (!me.done && !me.taken) withdraw(&me);
    if (me.done) return me.status;
    return Status::Internal("token.issued: out of memory");
  }
}

void TokenAnnouncer::publish_next_batch(std::unique_lock<std::mutex>& l) {
  const std::size_t n = std::min(pending_.size(), max_batch_);
  // May throw (allocation) before anything changed.
  std::vector<Slot*> batch(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  ++in_flight_;
  Clock::time_point deadline = Clock::time_point::max();
  for (Slot* s : batch) {
    s->taken = true;
    deadline = std::min(deadline, s->deadline);
  }
  if (in_flight_ < max_in_flight_) wake_front();  // another batch may go at once
  l.unlock();

  Status st;
  try {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      st = Status::DeadlineExceeded("token.issued: the deadline passed before publishing");
    } else {
      std::string body;
      if (n == 1) {
        body = events::encode_token_issued(*batch[0]->record);
      } else {
        std::vector<DownloadTokenRecord> records;
        records.reserve(n);
        for (Slot* s : batch) records.push_back(*s->record);
        body = events::encode_token_issued_batch(records);
      }
      st = publish_(body, left);
    }
  } catch (const std::exception& e) {
    st = Status::Internal(std::string("token.issued: ") + e.what());
  } catch (...) {
    st = Status::Internal("token.issued: unknown exception");
  }

  l.lock();
  for (Slot* s : batch) {
    s->status = st;
    s->done = true;
    s->cv.notify_one();  // the publisher's own slot is in the batch too: a no-op for it
  }
  if (st.ok()) {
    ++events_;
    records_ += n;
  }
  --in_flight_;
  wake_front();  // the next batch may go
}

void TokenAnnouncer::wake_front() {
  if (!pending_.empty()) pending_.front()->cv.notify_one();
}

void TokenAnnouncer::withdraw(Slot* s) {
  auto it = std::find(pending_.begin(), pending_.end(), s);
  if (it == pending_.end()) return;
  const bool was_front = it == pending_.begin();
  pending_.erase(it);
  if (was_front) wake_front();  // the next oldest may publish now
}

std::uint64_t TokenAnnouncer::events_published() const {
  std::lock_guard<std::mutex> g(mu_);
  return events_;
}

std::uint64_t TokenAnnouncer::records_published() const {
  std::lock_guard<std::mutex> g(mu_);
  return records_;
}

}  // namespace dfd::info
