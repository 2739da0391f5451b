// info-core: the per-user rate limit on manifests (each GET /v1/files/{id} issues a download
// token and a broker event, so one user must not be able to flood the broker).
//
// A token bucket per user: it holds at most `burst` manifests and refills at `per_minute`/60 per
// second; a request takes one. An empty bucket answers the seconds until the next refill (the
// Retry-After). per_minute == 0 switches the limit off.
//
// Memory: one small entry per user seen; entries whose bucket has refilled completely are swept
// when the table has doubled since the last sweep (at least 10,000 users).
//
// Thread-safety: take() is safe to call concurrently (one internal mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace dfd::info {

class ManifestLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  ManifestLimiter(std::int64_t per_minute, std::int64_t burst);

  // 0 when `user_id` may have a manifest now (one is taken); otherwise seconds to wait (>= 1).
  std::int64_t take(std::int64_t user_id, TimePoint now);

  bool enabled() const { return per_second_ > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint last;
  };
  void refill(Bucket& b, TimePoint now) const;

  const double per_second_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::int64_t, Bucket> buckets_;
  std::size_t sweep_at_ = 10000;  // the size at which the next sweep runs
};

}  // namespace dfd::info
