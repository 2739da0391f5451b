#include "login_limiter.hpp"

#include <algorithm>

namespace dfd::info_sqlite {

namespace {
constexpr std::size_t kSweepAt = 10000;  // keys per table before expired ones are swept
}

std::int64_t LoginLimiter::wait_for(Table& t, const std::string& key, TimePoint now) {
  auto it = t.find(key);
  if (it == t.end()) return 0;
  auto& q = it->second;
  while (!q.empty() && q.front() + window_ <= now) q.pop_front();
  if (q.empty()) {
    t.erase(it);
    return 0;
  }
  if (static_cast<std::int64_t>(q.size()) < max_) return 0;
  auto left = q.front() + window_ - now;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
  return std::max<std::int64_t>(1, (ms + 999) / 1000);
}

void LoginLimiter::add(Table& t, const std::string& key, TimePoint now) {
  if (t.size() >= kSweepAt) sweep(t, now);
  auto& q = t[key];
  q.push_back(now);
  while (static_cast<std::int64_t>(q.size()) > max_) q.pop_front();
}

void LoginLimiter::sweep(Table& t, TimePoint now) {
  for (auto it = t.begin(); it != t.end();) {
    if (it->second.empty() || it->second.back() + window_ <= now) {
      it = t.erase(it);
    } else {
      ++it;
    }
  }
}

std::int64_t LoginLimiter::retry_after(const std::string& account, const std::string& address,
                                       TimePoint now) {
  std::lock_guard<std::mutex> g(mu_);
  return std::max(wait_for(accounts_, account, now), wait_for(addresses_, address, now));
}

void LoginLimiter::record_failure(const std::string& account, const std::string& address,
                                  TimePoint now) {
  std::lock_guard<std::mutex> g(mu_);
  add(accounts_, account, now);
  add(addresses_, address, now);
}

void LoginLimiter::record_success(const std::string& account) {
  std::lock_guard<std::mutex> g(mu_);
  accounts_.erase(account);
}

}  // namespace dfd::info_sqlite
