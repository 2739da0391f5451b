// Outcomes of DownloadEngine (download_engine.hpp): what an ended chunk copy means for its chunk,
// its server (strikes, backoff, drop) and the download (the verified prefix, the token).
#include <algorithm>

#include "download_engine.hpp"
#include "util.hpp"

namespace dfd::client {

// Removes `t` from the loop and applies its outcome.
void DownloadEngine::finish(Transfer& t, Fault fault, const std::string& why,
                            Clock::time_point now) {
  auto& s = servers[static_cast<std::size_t>(t.server)];
  destroy_easy(t);
  if (!t.slot_freed && s.in_flight) --s.in_flight;
  t.slot_freed = true;
  if (t.duplicate && active_duplicates) --active_duplicates;
  if (fault == Fault::kNone) {
    succeed(t, s, now);
    return;
  }
  planner->release(t.chunk, t.server);
  if (fault == Fault::kCanceled) return;
  ++s.report.retries;
  s.report.last_error = why;
  switch (fault) {
    case Fault::kLocal:
      fail_fatal(exit_code::kLocalIo, why);
      break;
    case Fault::kAuth: {
      if (t.token != download_token) break;  // an older token; the new one is in use already
      bool renewed = report.token_renewals < 3 && renew_token();
      // renew_token may add servers: `s` may dangle, index again.
      if (!renewed)
        strike(servers[static_cast<std::size_t>(t.server)],
               "refused the download token (" + why + ")", now);
      break;
    }
    case Fault::kStrike:
      strike(s, why, now);
      break;
    case Fault::kTransport:
    default:
      transport_failure(s, why, now);
      break;
  }
}

void DownloadEngine::succeed(Transfer& t, FileServer& s, Clock::time_point now) {
  if (planner->verified(t.chunk)) {  // lost a race we did not cancel in time: nothing to do
    planner->release(t.chunk, t.server);
    return;
  }
  auto others = planner->complete(t.chunk, t.server);
  for (int other : others) {
    if (Transfer* o2 = find_copy(t.chunk, other)) {
      o2->fault = Fault::kCanceled;
      auto& os = servers[static_cast<std::size_t>(other)];
      bool was_silent = silent(*o2, now);
      destroy_easy(*o2);
      if (os.in_flight) --os.in_flight;
      if (o2->duplicate && active_duplicates) --active_duplicates;
      if (was_silent) {
        // It lost because it went silent: a failure of its server, not a lost race.
        auto quiet_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now - o2->last_data).count();
        ++os.report.retries;
        os.report.last_error = "silent: no data for " + std::to_string(quiet_ms) + " ms, chunk " +
                               std::to_string(t.chunk) + " taken over by " + s.report.id;
        transport_failure(os, os.report.last_error, now);
      } else {
        freed_servers.push_back(other);
      }
    }
  }
  if (t.duplicate) {
    // The primary copy (if any) was cancelled above, so nobody else writes this range now.
    if (int e = part.write_at(t.buffer.data(), t.buffer.size(), t.offset)) {
      fail_fatal(exit_code::kLocalIo, part.write_error(e));
      return;
    }
    ++s.report.duplicates_won;
    std::string().swap(t.buffer);
  }
  s.consecutive_failures = 0;
  double took = seconds_between(t.start, now) * static_cast<double>(manifest.chunk_size) /
                static_cast<double>(std::max<std::uint64_t>(t.length, 1));
  s.ema_chunk_s = s.ema_chunk_s > 0 ? 0.7 * s.ema_chunk_s + 0.3 * took : took;
  s.report.bytes += t.length;
  ++s.report.chunks;
  ++report.chunks_fetched;
  report.bytes_fetched += t.length;
  part.mark_changed();
  freed_servers.push_back(t.server);
  if (auto e = part.chunk_verified(); !e.empty()) fail_fatal(exit_code::kLocalIo, e);
  advance_verified_prefix();
}

// The in-order verified prefix (chunks 0..k all verified) may have grown: hash it for the
// whole-file digest.
void DownloadEngine::advance_verified_prefix() {
  prefix_hasher->advance(
      std::min<std::uint64_t>(manifest.size, planner->verified_prefix() * manifest.chunk_size));
}

// A failure of the connection or the server (not of the bytes): backoff, and a drop after
// max_failures in a row.
void DownloadEngine::transport_failure(FileServer& s, const std::string& why,
                                       Clock::time_point now) {
  ++s.consecutive_failures;
  if (s.consecutive_failures >= options.max_failures) {
    drop(s, "failed " + std::to_string(s.consecutive_failures) + " times in a row (last: " + why +
                ")");
    return;
  }
  auto d = options.backoff_base * (1LL << std::min(s.consecutive_failures - 1, 20));
  s.backoff_until =
      now + std::min<std::chrono::milliseconds>(
                std::chrono::duration_cast<std::chrono::milliseconds>(d), options.backoff_max);
}

void DownloadEngine::strike(FileServer& s, const std::string& why, Clock::time_point now) {
  ++s.report.strikes;
  if (static_cast<int>(s.report.strikes) >= options.max_strikes) {
    drop(s, std::to_string(s.report.strikes) + " strikes (last: " + why + ")");
    return;
  }
  s.backoff_until = now + options.backoff_base;
}

void DownloadEngine::drop(FileServer& s, const std::string& why) {
  if (s.report.dropped) return;
  s.report.dropped = true;
  s.report.drop_reason = why;
}

bool DownloadEngine::renew_token() {
  if (!options.renew) return false;
  ++report.token_renewals;
  std::string err;
  auto fresh = options.renew(err);
  if (!fresh) {
    for (auto& s : servers) s.report.last_error = "token renewal failed: " + err;
    return false;
  }
  if (fresh->uid != manifest.uid || fresh->size != manifest.size ||
      fresh->chunk_size != manifest.chunk_size || fresh->chunks != manifest.chunks ||
      fresh->digest != manifest.digest) {
    fail_fatal(exit_code::kServer, "the file changed on the info server during the download");
    return false;
  }
  download_token = fresh->download_token;
  for (const auto& loc : fresh->locations) {
    bool known = std::any_of(servers.begin(), servers.end(), [&](const FileServer& s) {
      return s.location.server_id == loc.server_id;
    });
    if (!known && loc.healthy) add_server(loc);
  }
  return true;
}

void DownloadEngine::save_state(bool always) {
  if (auto e = part.save(planner->verified_bitmap(), always); !e.empty())
    fail_fatal(exit_code::kLocalIo, e);
}

}  // namespace dfd::client
