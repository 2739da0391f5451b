// info-core: group commit of `token.issued` events.
//
// Every manifest must answer only after the broker confirmed the event carrying its download
// token. Publishing one persistent event per token makes the broker (routing to every file
// server's durable queue, confirming after fsync) the bottleneck, so concurrent requesters hand
// their records to one TokenAnnouncer, which publishes them together:
//   - no artificial delay: a requester that finds no publish in flight publishes at once;
//   - records arriving while a publish is in flight wait and form the next batch (at most
//     `max_batch` records, oldest first);
//   - one event per batch: the single-record form when the batch holds one record (readable by
//     every file server version), else {"v":1,"tokens":[...]} (events.hpp);
//   - every requester of a batch gets the batch's result.
//   - records "on their way" (an Arrival exists: the requester is issuing its token right now)
//     are waited for, at most `linger` after the oldest waiting record: the requests of one wave
//     land in one event instead of a lone first record followed by the rest. With nobody on the
//     way the first record is published at once.
// There is no thread of its own: the requester that finds the announcer idle becomes the
// publisher of the next batch (leader/follower), so nothing runs after the last caller returned.
// Every requester sleeps on its own condition variable and is woken only when its batch is done
// or when it is the oldest waiting record and may publish (no herd of 16 woken threads for each
// confirm).
//
// Deadlines: announce() returns within about `timeout` of its call. A record still waiting when
// its deadline passes is withdrawn (kDeadlineExceeded, never published); a batch is published
// with the earliest remaining deadline of its records as the broker's confirm timeout.
//
// Thread-safe: announce() may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>

#include "dfd/auth.hpp"
#include "dfd/status.hpp"

namespace dfd::info {

class TokenAnnouncer {
 public:
  // Publishes one token.issued body and waits for its confirm, at most `timeout`. Must be
  // thread-safe and must not throw (Broker::publish is both).
  using Publish = std::function<Status(std::string_view body, std::chrono::milliseconds timeout)>;

  explicit TokenAnnouncer(Publish publish, std::size_t max_batch = 256,
                          std::size_t max_in_flight = 1,
                          std::chrono::microseconds linger = std::chrono::microseconds(0));

  // Announces that a record is on its way (its token is being issued); pass it to announce(), or
  // let it go out of scope when there will be no record. Movable, not copyable.
  class Arrival {
   public:
    Arrival() = default;
    explicit Arrival(TokenAnnouncer& a) noexcept;
    Arrival(Arrival&& o) noexcept : a_(o.a_) { o.a_ = nullptr; }
    Arrival& operator=(Arrival&&) = delete;
    Arrival(const Arrival&) = delete;
    ~Arrival();

   private:
    friend class TokenAnnouncer;
    TokenAnnouncer* a_ = nullptr;
  };
  TokenAnnouncer(const TokenAnnouncer&) = delete;
  TokenAnnouncer& operator=(const TokenAnnouncer&) = delete;

  // Publishes `record` (with whatever else is waiting) and returns the confirm's result: Ok once
  // the broker confirmed the event holding it, else the publish's error, or kDeadlineExceeded
  // when `timeout` passed first. Blocks the calling thread.
  Status announce(const DownloadTokenRecord& record, std::chrono::milliseconds timeout,
                  Arrival* arrival = nullptr) noexcept;

  // Statistics (for metrics and tests).
  std::uint64_t events_published() const;
  std::uint64_t records_published() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Slot {
    const DownloadTokenRecord* record = nullptr;
    Clock::time_point deadline;
    Clock::time_point queued;
    bool taken = false;  // part of the batch being published
    bool done = false;   // `status` holds the result
    Status status;
    std::condition_variable cv;  // its requester waits here
  };

  // Wakes the oldest waiting record's requester (it may publish next). Called with mu_ held.
  void wake_front();
  // Takes a record that is not part of a batch out of pending_ (deadline passed, or out of
  // memory), waking the next oldest if it was the oldest. Called with mu_ held.
  void withdraw(Slot* s);

  // Publishes the oldest pending records as one event; called with `l` locked, returns locked.
  void publish_next_batch(std::unique_lock<std::mutex>& l);

  const Publish publish_;
  const std::size_t max_batch_;

  mutable std::mutex mu_;
  std::deque<Slot*> pending_;  // guarded by mu_; the slots live on their callers' stacks
  const std::size_t max_in_flight_;
  const std::chrono::microseconds linger_;
  std::size_t on_the_way_ = 0;  // live Arrivals; guarded by mu_
  std::size_t in_flight_ = 0;   // batches being published; guarded by mu_
  std::uint64_t events_ = 0;    // guarded by mu_
  std::uint64_t records_ = 0;   // guarded by mu_
};

}  // namespace dfd::info
