#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace dfd::client {

namespace {
constexpr double kBurstSeconds = 0.1;
constexpr double kResumeSeconds = 0.02;
}  // namespace

TokenBucket::TokenBucket(double rate, Clock::time_point now) : last_(now) {
  if (!(rate > 0)) return;
  rate_ = rate;
  capacity_ = rate * kBurstSeconds;
  resume_ = rate * kResumeSeconds;
  tokens_ = capacity_;
}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  tokens_ =
      std::min(capacity_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
  last_ = now;
}

double TokenBucket::tokens(Clock::time_point now) {
  refill(now);
  return tokens_;
}

bool TokenBucket::open(Clock::time_point now) {
  if (!limited()) return true;
  refill(now);
  if (closed_ && tokens_ >= resume_) closed_ = false;
  if (!closed_ && tokens_ < 0) closed_ = true;
  return !closed_;
}

void TokenBucket::take(double n, Clock::time_point now) {
  if (!limited()) return;
  refill(now);
  tokens_ -= n;
  if (tokens_ < 0) closed_ = true;
}

TokenBucket::Clock::duration TokenBucket::until_open(Clock::time_point now) {
  if (open(now)) return Clock::duration::zero();
  auto wait = std::chrono::duration<double>((resume_ - tokens_) / rate_);
  // Rounded up, so the caller that sleeps this long finds the bucket open.
  return std::chrono::duration_cast<Clock::duration>(wait) + Clock::duration(1);
}

RateLimiter::RateLimiter(double total, double per_server, Clock::time_point now)
    : total_(total, now), per_server_rate_(per_server > 0 ? per_server : 0) {}

TokenBucket& RateLimiter::bucket(std::size_t server, Clock::time_point now) {
  while (servers_.size() <= server) servers_.emplace_back(per_server_rate_, now);
  return servers_[server];
}

std::size_t RateLimiter::server_slot(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = slots_.emplace(key, slots_.size());
  (void)added;
  return it->second;
}

bool RateLimiter::may_receive(std::size_t server, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  bool total_open = total_.open(now);
  bool server_open = per_server_rate_ <= 0 || bucket(server, now).open(now);
  return total_open && server_open;
}

void RateLimiter::received(std::size_t server, std::size_t n, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  total_.take(static_cast<double>(n), now);
  if (per_server_rate_ > 0) bucket(server, now).take(static_cast<double>(n), now);
}

RateLimiter::Clock::duration RateLimiter::until_open(std::size_t server, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto wait = total_.until_open(now);
  if (per_server_rate_ > 0) wait = std::max(wait, bucket(server, now).until_open(now));
  return wait;
}

long RateLimiter::read_size(long fallback) const {
  double smallest = 0;
  if (total_.limited()) smallest = total_.rate();
  if (per_server_rate_ > 0)
    smallest = smallest > 0 ? std::min(smallest, per_server_rate_) : per_server_rate_;
  if (smallest <= 0) return fallback;
  constexpr double kMin = 1024, kMax = 512 * 1024;
  return static_cast<long>(std::clamp(std::floor(smallest / 32), kMin, kMax));
}

double RateLimiter::share(std::size_t connections_total, std::size_t connections_per_server) const {
  double s = 0;
  if (total_.limited())
    s = total_.rate() / static_cast<double>(std::max<std::size_t>(1, connections_total));
  if (per_server_rate_ > 0) {
    double p =
        per_server_rate_ / static_cast<double>(std::max<std::size_t>(1, connections_per_server));
    s = s > 0 ? std::min(s, p) : p;
  }
  return s;
}

}  // namespace dfd::client
