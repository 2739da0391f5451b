// The speed limits in DownloadEngine's transfer loop (download_engine.hpp, rate_limiter.hpp):
// a transfer whose limit is used up pauses from its own body callback (libcurl keeps the piece
// and stops reading the socket: TCP backpressure slows the server) and is resumed by the loop
// once its buckets allow; the loop sleeps until then. A paused transfer is neither silent nor
// stalled (download_scheduler.cpp, check_stalls): it sends nothing because we asked it not to.
#include <algorithm>
#include <vector>

#include "download_engine.hpp"

namespace dfd::client {

bool DownloadEngine::admit(Transfer& t, std::size_t n) {
  if (!limiter->limited()) return true;
  auto server = limiter_slot(t.server);
  auto now = Clock::now();
  if (!limiter->may_receive(server, now)) {
    t.throttled = true;
    return false;
  }
  limiter->received(server, n, now);  // every copy's bytes count, second copies included
  return true;
}

Clock::duration DownloadEngine::unthrottle(Clock::time_point now) {
  auto wait = Clock::duration::max();
  std::vector<Transfer*> paused;
  for (auto& t : transfers)
    if (t->easy && t->throttled) paused.push_back(t.get());
  if (paused.empty()) return wait;
  unthrottle_first = (unthrottle_first + 1) % paused.size();
  for (std::size_t k = 0; k < paused.size(); ++k) {
    Transfer& t = *paused[(unthrottle_first + k) % paused.size()];
    if (!t.easy || !t.throttled) continue;
    auto server = limiter_slot(t.server);
    if (!limiter->may_receive(server, now)) {
      wait = std::min(wait, limiter->until_open(server, now));
      continue;
    }
    t.throttled = false;
    t.last_data = now;  // its silence clock starts again
    // libcurl may hand over the piece it kept at once (accept_body runs, and may pause it again).
    if (curl_easy_pause(t.easy, CURLPAUSE_CONT) != CURLE_OK && t.easy) {
      finish(t, t.fault != Fault::kNone ? t.fault : Fault::kTransport,
             t.why.empty() ? "cannot resume a paused transfer (libcurl)" : t.why, now);
    } else if (t.throttled) {
      wait = std::min(wait, limiter->until_open(server, now));
    }
  }
  return wait;
}

// Servers are numbered per download; the limiter knows them by URL (one server serving two files
// of a command has one bucket).
std::size_t DownloadEngine::limiter_slot(int server) {
  auto i = static_cast<std::size_t>(server);
  while (limiter_slots.size() <= i)
    limiter_slots.push_back(limiter->server_slot(servers[limiter_slots.size()].location.url));
  return limiter_slots[i];
}

long DownloadEngine::receive_buffer() const {
  return limiter->read_size(512L * 1024L);
}

// Under a speed limit a request may be as slow as its share of it: --min-speed stays below a
// quarter of that share, or a throttled request would be failed as too slow.
long DownloadEngine::min_speed() const {
  if (!limiter->limited()) return options.min_speed;
  auto share = limiter->share(max_transfers, options.per_server);
  return std::min(options.min_speed, static_cast<long>(share / 4));
}

}  // namespace dfd::client
