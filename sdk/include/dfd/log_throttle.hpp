// dfd SDK — a log line budget: at most `burst` lines per `window`, so an attacker publishing
// garbage cannot flood the log. The first line allowed after some were held back tells how many.
// Header-only. Not thread-safe: one thread, or the caller's lock (used by both broker plugins and
// the host's signed-event checks).
#pragma once

#include <chrono>
#include <cstdint>

namespace dfd {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  LogThrottle(std::chrono::milliseconds window, int burst) : window_(window), burst_(burst) {}

  // True when a line may be written at `now`. `suppressed` is then the number of lines held back
  // since the last allowed one (0 usually).
  bool allow(Clock::time_point now, std::uint64_t& suppressed) {
    if (now - window_start_ >= window_) {
      window_start_ = now;
      used_ = 0;
    }
    if (used_ >= burst_) {
      ++held_back_;
      return false;
    }
    ++used_;
    suppressed = held_back_;
    held_back_ = 0;
    return true;
  }

 private:
  std::chrono::milliseconds window_;
  int burst_;
  Clock::time_point window_start_{};
  int used_ = 0;
  std::uint64_t held_back_ = 0;
};

}  // namespace dfd
