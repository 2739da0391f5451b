// Pieces of the engine's Progress (downloader.hpp) that are pure logic: a sliding-window rate and
// the state a file server shows in the live view. Not thread-safe (the download loop's thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace dfd::client {

// Bytes/s of a growing counter over the last `span` (about 3 s), from samples taken ~4x a second.
class RateWindow {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateWindow(Clock::duration span = std::chrono::seconds(3)) : span_(span) {}
  // `total`: the counter now (it only grows). Returns the rate over the samples kept (0 until
  // they cover 0.1 s).
  double sample(Clock::time_point now, std::uint64_t total);

 private:
  Clock::duration span_;
  std::deque<std::pair<Clock::time_point, std::uint64_t>> samples_;
};

// What a file server is doing now, as the live view shows it.
struct ServerActivity {
  bool dropped = false;
  bool backing_off = false;        // waiting out a backoff, or its last request failed
  std::size_t in_flight = 0;       // requests open to it
  bool bytes_last_second = false;  // body bytes arrived from it in the last second
};

// "dropped", "transferring" (requests open and bytes in the last second), "backing-off",
// "waiting" (requests open, no bytes for a second) or "idle" (nothing asked of it).
const char* server_state(const ServerActivity& a);

}  // namespace dfd::client
