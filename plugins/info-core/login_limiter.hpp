// info-core: throttling of login attempts, per (account, client address), per client address
// and per account.
//
// Atomic: reserve() counts an attempt as a failure *before* the password is checked, under one
// mutex, so N parallel wrong logins cannot all pass a check made before any of them failed
// (check-then-act). A success then takes its reservation back (succeeded()); an attempt that
// could not be judged (a store error) is taken back too (cancelled()).
//
// Three keys, each with the failures of the sliding `window`:
//   - (account, address): at `pair_max` failures the pair waits until the oldest of them leaves
//     the window (one guesser, one account: a hard limit).
//   - address: from `address_max` failures on, exponential backoff instead of a lock: the next
//     attempt waits 1 s after the last failure, then 2 s, 4 s ... (at most the window). Many
//     people behind one NAT keep logging in after short waits; a guesser gets a few more tries.
//   - account: the same backoff from `account_max` failures (guessing one account from many
//     addresses); a success clears it.
// The Retry-After is the longest wait among the three (>= 1 s).
//
// Memory is bounded: each key keeps at most its limit plus a few timestamps, and keys whose
// failures all left the window are swept when a table has doubled since the last sweep (at least
// 10,000 keys).
//
// This is the in-memory throttle of one server (MemoryLoginThrottle, login_throttle.hpp); a
// throttle shared by several servers (info-postgres) keeps the failures elsewhere and applies the
// same rule, login_wait().
//
// Thread-safety: every method is safe to call concurrently (one internal mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dfd::info {

// The rule, one home for every throttle: a key with `failures` failures inside the window, the
// oldest `since_oldest` and the newest `since_newest` ago, under limit `max`. Seconds to wait
// (>= 1), or 0 when it may try now. `backoff` false: the key waits until its oldest failure leaves
// the window; true: 1 s after the newest failure at the limit, doubling with each failure beyond
// it (at most the window).
std::int64_t login_wait(std::int64_t failures, std::chrono::nanoseconds since_oldest,
                        std::chrono::nanoseconds since_newest, std::int64_t max, bool backoff,
                        std::chrono::nanoseconds window);
// Failures kept per key beyond its limit (2^16 s of backoff exceed any window).
constexpr std::int64_t kLoginBackoffSteps = 16;

class LoginLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Limits {
    std::int64_t pair_max = 5;
    std::int64_t address_max = 20;
    std::int64_t account_max = 20;
    std::chrono::seconds window{300};
  };

  // What reserve() hands out: the attempt's identity, for succeeded()/cancelled().
  struct Attempt {
    std::int64_t retry_after = 0;  // > 0: refused, wait this many seconds; nothing was reserved
    std::string account;
    std::string address;
    TimePoint at;
  };

  explicit LoginLimiter(Limits limits);

  // Refuses (retry_after > 0) or reserves one failure on every key (retry_after == 0).
  Attempt reserve(const std::string& account, const std::string& address, TimePoint now);
  // The password was right: the pair and account failures are cleared, the address keeps its
  // other failures but not this attempt.
  void succeeded(const Attempt& a);
  // The attempt was not judged (store error, account disabled): its reservation is taken back.
  void cancelled(const Attempt& a);

  // The key of an (account, address) pair.
  static std::string pair_key(const std::string& account, const std::string& address);

 private:
  // Failures per key, and the size at which the next sweep runs (doubling, so sweeping stays
  // amortized O(1) per attempt however many keys are live).
  struct Table : std::unordered_map<std::string, std::deque<TimePoint>> {
    std::size_t sweep_at = 10000;
  };
  // Seconds until `key` may try again under limit `max` (0: now); `backoff` selects the rule.
  std::int64_t wait_for(Table& t, const std::string& key, std::int64_t max, bool backoff,
                        TimePoint now);
  void add(Table& t, const std::string& key, std::int64_t max, TimePoint now);
  static void take_back(Table& t, const std::string& key, TimePoint at);
  void sweep(Table& t, TimePoint now);

  const Limits limits_;
  std::mutex mu_;
  Table pairs_;
  Table addresses_;
  Table accounts_;
};

}  // namespace dfd::info
