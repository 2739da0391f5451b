// info-sqlite: rate limiting of failed logins, per account (e-mail) and per client address.
//
// A key (account or address) is blocked while it has `max_failures` failures inside the sliding
// `window`; the wait until the oldest of them leaves the window is the Retry-After. A successful
// login clears the account's failures (not the address's: one address guessing many accounts
// stays limited). Memory is bounded: each key keeps at most `max_failures` timestamps and keys
// whose failures all left the window are swept when the table grows.
//
// Thread-safety: every method is safe to call concurrently (one internal mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dfd::info_sqlite {

class LoginLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  LoginLimiter(std::int64_t max_failures, std::chrono::seconds window)
      : max_(max_failures < 1 ? 1 : max_failures), window_(window) {}

  // 0 when an attempt for (account, address) may go ahead; otherwise the seconds to wait (>= 1).
  std::int64_t retry_after(const std::string& account, const std::string& address, TimePoint now);
  void record_failure(const std::string& account, const std::string& address, TimePoint now);
  void record_success(const std::string& account);

 private:
  using Table = std::unordered_map<std::string, std::deque<TimePoint>>;
  std::int64_t wait_for(Table& t, const std::string& key, TimePoint now);
  void add(Table& t, const std::string& key, TimePoint now);
  void sweep(Table& t, TimePoint now);

  const std::int64_t max_;
  const std::chrono::seconds window_;
  std::mutex mu_;
  Table accounts_;
  Table addresses_;
};

}  // namespace dfd::info_sqlite
