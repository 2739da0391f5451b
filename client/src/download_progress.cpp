// The Progress callback of DownloadEngine (download_engine.hpp).
#include <algorithm>

#include "download_engine.hpp"

namespace dfd::client {

void DownloadEngine::report_progress(Clock::time_point now) {
  if (!options.on_progress) return;
  Progress p;
  p.total_bytes = manifest.size;
  std::uint64_t done = 0;
  for (std::size_t i = 0; i < planner->size(); ++i)
    if (planner->verified(i)) done += manifest.chunk_length(i);
  for (auto& t : transfers)
    if (t->easy && !t->duplicate) done += t->received;
  p.done_bytes = std::min(done, manifest.size);
  speed_samples.emplace_back(now, report.bytes_received);
  while (speed_samples.size() > 2 && now - speed_samples.front().first > std::chrono::seconds(3))
    speed_samples.pop_front();
  double dt = seconds_between(speed_samples.front().first, now);
  if (dt > 0.1)
    p.speed = static_cast<double>(report.bytes_received - speed_samples.front().second) / dt;
  if (p.speed > 0) p.eta_s = static_cast<double>(manifest.size - p.done_bytes) / p.speed;
  for (auto& s : servers) {
    if (s.in_flight) ++p.servers_active;
    if (!s.report.dropped) ++p.servers_usable;
  }
  options.on_progress(p);
}

}  // namespace dfd::client
