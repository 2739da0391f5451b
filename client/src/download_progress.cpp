// The Progress callback of DownloadEngine (download_engine.hpp) and its pure pieces
// (download_progress.hpp).
#include "download_progress.hpp"

#include <algorithm>

#include "download_engine.hpp"

namespace dfd::client {

double RateWindow::sample(Clock::time_point now, std::uint64_t total) {
  samples_.emplace_back(now, total);
  while (samples_.size() > 2 && now - samples_.front().first > span_) samples_.pop_front();
  double dt = std::chrono::duration<double>(now - samples_.front().first).count();
  if (dt <= 0.1) return 0;
  return static_cast<double>(total - samples_.front().second) / dt;
}

const char* server_state(const ServerActivity& a) {
  if (a.dropped) return "dropped";
  if (a.in_flight > 0 && a.bytes_last_second) return "transferring";
  if (a.backing_off) return "backing-off";
  if (a.in_flight > 0) return "waiting";
  return "idle";
}

Progress DownloadEngine::progress(Clock::time_point now, bool final) {
  Progress p;
  p.final = final;
  p.total_bytes = manifest.size;
  p.elapsed_s = seconds_between(started, now);
  p.chunks_total = manifest.chunk_count();
  p.chunks_resumed = report.chunks_resumed;
  p.chunks_verified = planner ? planner->verified_count() : report.chunks_resumed;
  std::uint64_t done = 0;
  if (planner) {
    for (std::size_t i = 0; i < planner->size(); ++i)
      if (planner->verified(i)) done += manifest.chunk_length(i);
  }
  for (auto& t : transfers)
    if (t->easy && !t->duplicate) done += t->received;
  p.done_bytes = std::min(done, manifest.size);
  p.speed = speed.sample(now, report.bytes_received);
  if (p.speed > 0) p.eta_s = static_cast<double>(manifest.size - p.done_bytes) / p.speed;
  for (auto& s : servers) {
    ServerActivity a;
    a.dropped = s.report.dropped;
    a.backing_off = now < s.backoff_until || s.consecutive_failures > 0;
    a.in_flight = s.in_flight;
    a.bytes_last_second = s.received > 0 && now - s.last_bytes < std::chrono::seconds(1);
    ServerProgress sp;
    sp.id = s.report.id;
    sp.zone = s.report.zone;
    sp.url = s.report.url;
    sp.bytes = s.report.bytes;
    sp.speed = s.speed.sample(now, s.received);
    sp.connections = s.in_flight;
    sp.state = server_state(a);
    if (sp.state == "dropped") sp.reason = s.report.drop_reason;
    if (sp.state == "backing-off") sp.reason = s.report.last_error;
    if (s.in_flight) ++p.servers_active;
    if (!s.report.dropped) ++p.servers_usable;
    if (sp.state == "transferring") ++p.servers_transferring;
    p.servers.push_back(std::move(sp));
  }
  return p;
}

void DownloadEngine::report_progress(Clock::time_point now, bool final) {
  if (options.on_progress) options.on_progress(progress(now, final));
}

}  // namespace dfd::client
