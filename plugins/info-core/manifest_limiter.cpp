#include "manifest_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace dfd::info {

namespace {
constexpr std::size_t kSweepAt = 10000;
}

ManifestLimiter::ManifestLimiter(std::int64_t per_minute, std::int64_t burst)
    : per_second_(per_minute > 0 ? static_cast<double>(per_minute) / 60.0 : 0.0),
      burst_(static_cast<double>(std::max<std::int64_t>(1, burst))) {}

void ManifestLimiter::refill(Bucket& b, TimePoint now) const {
  if (now > b.last) {
    double s = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + s * per_second_);
    b.last = now;
  }
}

std::int64_t ManifestLimiter::take(std::int64_t user_id, TimePoint now) {
  if (!enabled()) return 0;
  std::lock_guard<std::mutex> g(mu_);
  if (buckets_.size() >= sweep_at_) {  // doubling: amortized O(1) per request
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second, now);
      it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
    sweep_at_ = std::max(kSweepAt, 2 * buckets_.size());
  }
  auto [it, fresh] = buckets_.try_emplace(user_id, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) refill(b, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  double wait = (1.0 - b.tokens) / per_second_;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait)));
}

}  // namespace dfd::info
