#include "login_limiter.hpp"

#include <algorithm>

namespace dfd::info {

namespace {
constexpr std::size_t kSweepAt = 10000;  // keys per table before expired ones are swept

std::int64_t ceil_seconds(std::chrono::steady_clock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::max<std::int64_t>(1, (ms + 999) / 1000);
}

LoginLimiter::Limits normalized(LoginLimiter::Limits l) {
  l.pair_max = std::max<std::int64_t>(1, l.pair_max);
  l.address_max = std::max<std::int64_t>(1, l.address_max);
  l.account_max = std::max<std::int64_t>(1, l.account_max);
  return l;
}
}  // namespace

LoginLimiter::LoginLimiter(Limits limits) : limits_(normalized(limits)) {}

std::string LoginLimiter::pair_key(const std::string& account, const std::string& address) {
  std::string k = account;
  k += '\n';  // neither an e-mail nor an address holds a newline
  k += address;
  return k;
}

std::int64_t login_wait(std::int64_t failures, std::chrono::nanoseconds since_oldest,
                        std::chrono::nanoseconds since_newest, std::int64_t max, bool backoff,
                        std::chrono::nanoseconds window) {
  if (failures <= 0 || failures < max) return 0;
  if (!backoff) return ceil_seconds(window - since_oldest);
  // 1 s after the last failure at the limit, doubling with each failure beyond it.
  const std::int64_t step = std::min<std::int64_t>(failures - max, 30);
  auto wait = std::min<std::chrono::nanoseconds>(std::chrono::seconds(1LL << step), window);
  return wait > since_newest ? ceil_seconds(wait - since_newest) : 0;
}

std::int64_t LoginLimiter::wait_for(Table& t, const std::string& key, std::int64_t max,
                                    bool backoff, TimePoint now) {
  auto it = t.find(key);
  if (it == t.end()) return 0;
  auto& q = it->second;
  while (!q.empty() && q.front() + limits_.window <= now) q.pop_front();
  if (q.empty()) {
    t.erase(it);
    return 0;
  }
  return login_wait(static_cast<std::int64_t>(q.size()), now - q.front(), now - q.back(), max,
                    backoff, limits_.window);
}

void LoginLimiter::add(Table& t, const std::string& key, std::int64_t max, TimePoint now) {
  if (t.size() >= t.sweep_at) {
    sweep(t, now);
    t.sweep_at = std::max(kSweepAt, 2 * t.size());
  }
  auto& q = t[key];
  q.push_back(now);
  while (static_cast<std::int64_t>(q.size()) > max + kLoginBackoffSteps) q.pop_front();
}

void LoginLimiter::take_back(Table& t, const std::string& key, TimePoint at) {
  auto it = t.find(key);
  if (it == t.end()) return;
  auto& q = it->second;
  auto pos = std::find(q.rbegin(), q.rend(), at);
  if (pos != q.rend()) q.erase(std::next(pos).base());
  if (q.empty()) t.erase(it);
}

void LoginLimiter::sweep(Table& t, TimePoint now) {
  for (auto it = t.begin(); it != t.end();) {
    if (it->second.empty() || it->second.back() + limits_.window <= now) {
      it = t.erase(it);
    } else {
      ++it;
    }
  }
}

LoginLimiter::Attempt LoginLimiter::reserve(const std::string& account, const std::string& address,
                                            TimePoint now) {
  Attempt a{0, account, address, now};
  const std::string pair = pair_key(account, address);
  std::lock_guard<std::mutex> g(mu_);
  a.retry_after = std::max({wait_for(pairs_, pair, limits_.pair_max, false, now),
                            wait_for(addresses_, address, limits_.address_max, true, now),
                            wait_for(accounts_, account, limits_.account_max, true, now)});
  if (a.retry_after > 0) return a;
  add(pairs_, pair, limits_.pair_max, now);
  add(addresses_, address, limits_.address_max, now);
  add(accounts_, account, limits_.account_max, now);
  return a;
}

void LoginLimiter::succeeded(const Attempt& a) {
  std::lock_guard<std::mutex> g(mu_);
  pairs_.erase(pair_key(a.account, a.address));
  accounts_.erase(a.account);
  take_back(addresses_, a.address, a.at);
}

void LoginLimiter::cancelled(const Attempt& a) {
  std::lock_guard<std::mutex> g(mu_);
  take_back(pairs_, pair_key(a.account, a.address), a.at);
  take_back(accounts_, a.account, a.at);
  take_back(addresses_, a.address, a.at);
}

}  // namespace dfd::info
