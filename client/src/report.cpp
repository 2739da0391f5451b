#include <cmath>
#include <cstdio>

#include "downloader.hpp"
#include "progress_view.hpp"
#include "util.hpp"

namespace dfd::client {

nlohmann::json report_to_json(const DownloadReport& r) {
  nlohmann::json servers = nlohmann::json::array();
  for (const auto& s : r.servers) {
    double share = r.bytes_fetched
                       ? 100.0 * static_cast<double>(s.bytes) / static_cast<double>(r.bytes_fetched)
                       : 0.0;
    servers.push_back({{"id", s.id},
                       {"zone", s.zone},
                       {"url", s.url},
                       {"bytes", s.bytes},
                       {"share_percent", std::round(share * 10) / 10},
                       {"chunks", s.chunks},
                       {"requests", s.requests},
                       {"retries", s.retries},
                       {"strikes", s.strikes},
                       {"duplicates_won", s.duplicates_won},
                       {"given_back", s.given_back},
                       {"dropped", s.dropped},
                       {"drop_reason", s.drop_reason},
                       {"last_error", s.last_error}});
  }
  return {{"ok", r.ok},
          {"exit_code", r.exit_code},
          {"error", r.error},
          {"path", r.path},
          {"uid", r.uid},
          {"name", r.name},
          {"size", r.size},
          {"alg", r.alg},
          {"chunk_size", r.chunk_size},
          {"chunks_total", r.chunks_total},
          {"chunks_resumed", r.chunks_resumed},
          {"chunks_fetched", r.chunks_fetched},
          {"bytes_fetched", r.bytes_fetched},
          {"bytes_received", r.bytes_received},
          {"duplicates", r.duplicates},
          {"token_renewals", r.token_renewals},
          {"restarted", r.restarted},
          {"digest_verified", r.digest_verified},
          {"seconds", r.seconds},
          {"average_speed", r.average_speed},
          {"servers", servers}};
}

std::string report_to_text(const DownloadReport& r, const Progress* last) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%s: %s, %zu chunks (%zu resumed), %s in %.2f s, %s%s\n",
                r.ok ? "done" : "stopped", printable(r.path).c_str(), r.chunks_total,
                r.chunks_resumed, human_size(r.bytes_fetched).c_str(), r.seconds,
                human_rate(r.average_speed).c_str(),
                r.digest_verified ? (", " + r.alg + " verified").c_str() : "");
  out += line;
  std::size_t w = 6;
  for (const auto& s : r.servers) w = std::max(w, printable(s.id).size());
  std::snprintf(line, sizeof line, "  %-*s %10s %6s %6s %7s %7s  %s\n", static_cast<int>(w),
                "SERVER", "BYTES", "SHARE", "CHUNKS", "RETRIES", "STRIKES", "STATUS");
  out += line;
  for (const auto& s : r.servers) {
    double share = r.bytes_fetched
                       ? 100.0 * static_cast<double>(s.bytes) / static_cast<double>(r.bytes_fetched)
                       : 0.0;
    std::string status = printable(s.dropped ? "dropped: " + s.drop_reason : "ok");
    for (const auto& sp : last ? last->servers : std::vector<ServerProgress>{})
      if (!s.dropped && sp.id == s.id && sp.state == "backing-off") status = server_state_text(sp);
    std::snprintf(line, sizeof line, "  %-*s %10s %5.1f%% %6zu %7zu %7zu  %s\n",
                  static_cast<int>(w), printable(s.id).c_str(), human_size(s.bytes).c_str(), share,
                  s.chunks, s.retries, s.strikes, status.c_str());
    out += line;
  }
  return out;
}

}  // namespace dfd::client
