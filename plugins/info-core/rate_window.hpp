// info-core: how many things happened in each of the last kSeconds seconds (the status page's
// token issuance rate: GET /v1/status/tokens). A ring of one-second buckets keyed by the
// second they count; a bucket older than the window counts as zero.
//
// Time is whole seconds of a monotonic clock, passed in by the caller (tests move it).
// Thread-safety: add() and series() may be called concurrently (one mutex, held for a few
// instructions).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

namespace dfd::info {

class RateWindow {
 public:
  static constexpr std::int64_t kSeconds = 60;

  // Counts `n` events in second `now_s`.
  void add(std::int64_t now_s, std::uint64_t n = 1);
  // The counts of the kSeconds seconds ending with `now_s` (that second included), oldest
  // first.
  std::vector<std::uint64_t> series(std::int64_t now_s) const;

 private:
  struct Bucket {
    std::int64_t second = -1;
    std::uint64_t count = 0;
  };
  mutable std::mutex mu_;
  std::array<Bucket, kSeconds> buckets_{};
};

}  // namespace dfd::info
