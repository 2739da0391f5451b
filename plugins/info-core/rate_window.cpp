#include "rate_window.hpp"

namespace dfd::info {

namespace {
std::size_t slot(std::int64_t second) {
  const std::int64_t n = RateWindow::kSeconds;
  return static_cast<std::size_t>(((second % n) + n) % n);
}
}  // namespace

void RateWindow::add(std::int64_t now_s, std::uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  Bucket& b = buckets_[slot(now_s)];
  if (b.second > now_s) return;  // older than the window this slot counts now
  if (b.second < now_s) b = Bucket{now_s, 0};
  b.count += n;
}

std::vector<std::uint64_t> RateWindow::series(std::int64_t now_s) const {
  std::vector<std::uint64_t> out(kSeconds, 0);
  std::lock_guard<std::mutex> l(mu_);
  for (std::int64_t i = 0; i < kSeconds; ++i) {
    const std::int64_t second = now_s - (kSeconds - 1) + i;
    const Bucket& b = buckets_[slot(second)];
    if (b.second == second) out[static_cast<std::size_t>(i)] = b.count;
  }
  return out;
}

}  // namespace dfd::info
