// auth-hmac: which download tokens this instance issued to each user, so that
// Auth::revoke_download_tokens_of() can name them (logout, a disabled user, an admin's
// revocation). Self-verifying tokens are otherwise stored nowhere.
//
// In memory only: a restart forgets the ledger, and tokens issued before it can then only be
// revoked one by one (docs/auth.md). Bounded: at most `per_user_max` unexpired entries per user
// (the oldest are dropped first) and expired ones are swept every 4096 additions.
//
// Thread-safety: every method is safe to call concurrently (one internal mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dfd::auth_hmac {

class IssuedLedger {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  explicit IssuedLedger(std::size_t per_user_max) : per_user_max_(per_user_max) {}

  void add(std::int64_t user_id, std::string token_hash, TimePoint expires, TimePoint now) {
    std::lock_guard<std::mutex> g(mu_);
    if (++adds_ % 4096 == 0) sweep(now);
    auto& q = by_user_[user_id];
    q.emplace_back(expires, std::move(token_hash));
    while (q.size() > per_user_max_) q.pop_front();
  }

  // The hashes of the user's tokens that have not expired at `now`.
  std::vector<std::string> unexpired(std::int64_t user_id, TimePoint now) {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<std::string> out;
    auto it = by_user_.find(user_id);
    if (it == by_user_.end()) return out;
    for (const auto& [expires, hash] : it->second) {
      if (expires > now) out.push_back(hash);
    }
    return out;
  }

 private:
  void sweep(TimePoint now) {
    for (auto it = by_user_.begin(); it != by_user_.end();) {
      auto& q = it->second;
      std::deque<std::pair<TimePoint, std::string>> keep;
      for (auto& e : q) {
        if (e.first > now) keep.push_back(std::move(e));
      }
      q.swap(keep);
      it = q.empty() ? by_user_.erase(it) : std::next(it);
    }
  }

  const std::size_t per_user_max_;
  std::mutex mu_;
  std::uint64_t adds_ = 0;  // guarded by mu_
  std::unordered_map<std::int64_t, std::deque<std::pair<TimePoint, std::string>>> by_user_;
};

}  // namespace dfd::auth_hmac
