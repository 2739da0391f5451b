// Scheduling of DownloadEngine (download_engine.hpp): which chunk goes to which file server.
#include <algorithm>

#include "download_engine.hpp"

namespace dfd::client {

void DownloadEngine::schedule(Clock::time_point now) {
  while (!freed_servers.empty() && transfers.size() < max_transfers && !fatal) {
    int si = freed_servers.front();
    freed_servers.pop_front();
    try_start_on(si, now);
  }
  freed_servers.clear();
  bool progress = true;
  while (progress && transfers.size() < max_transfers && !fatal) {
    progress = false;
    for (std::size_t k = 0; k < servers.size() && transfers.size() < max_transfers && !fatal; ++k) {
      int si = static_cast<int>((round_robin + k) % servers.size());
      if (try_start_on(si, now)) progress = true;
    }
    round_robin = (round_robin + 1) % std::max<std::size_t>(servers.size(), 1);
  }
}

bool DownloadEngine::try_start_on(int si, Clock::time_point now) {
  auto& s = servers[static_cast<std::size_t>(si)];
  // A server whose last request failed gets one probe at a time until one succeeds.
  std::size_t limit = s.consecutive_failures > 0 ? 1 : options.per_server;
  if (hook_stop() || !usable(s, now) || s.in_flight >= limit || has_silent_copy(si, now))
    return false;
  auto choice = choose_chunk(si, now);
  if (!choice) return false;
  start_transfer(si, choice->chunk, choice->duplicate, now);
  return true;
}

// First a chunk held by a silent copy elsewhere (lowest start first: it holds back the verified
// prefix and so the whole-file digest), then a fresh chunk, then the end game. A fresh chunk only
// if the server does not hold its share already (ServerPacer). The chosen copy is registered in
// the planner.
std::optional<DownloadEngine::ChunkChoice> DownloadEngine::choose_chunk(int si,
                                                                        Clock::time_point now) {
  if (active_duplicates < max_duplicates) {
    auto c = planner->assign_rescue(si, now, [&](std::size_t chunk, int holder) {
      const Transfer* t = find_copy(chunk, holder);
      return t && silent(*t, now);
    });
    if (c) return ChunkChoice{*c, true};
  }
  if (planner->unassigned() > 0 && !paced(si)) return std::nullopt;
  if (next_chunk_in_window())
    if (auto c = planner->assign(si, now)) return ChunkChoice{*c, false};
  if (active_duplicates >= max_duplicates) return std::nullopt;
  auto c = planner->assign_duplicate(si, now, [&](std::size_t chunk, int holder) {
    return worth_duplicating(chunk, holder, si, now);
  });
  if (!c) return std::nullopt;
  return ChunkChoice{*c, true};
}

bool DownloadEngine::usable(const FileServer& s, Clock::time_point now) const {
  return !s.report.dropped && now >= s.backoff_until;
}

// A copy that has received no byte for options.silent_after (default 300 ms) is silent (a
// stopped or stuck server; a healthy one on loopback or a LAN sends within milliseconds): another
// server may take a second copy of its chunk at once, not only in the end game, and its server
// gets no new chunk while it is silent. The stall timeout (longer) still ends the copy itself.
bool DownloadEngine::silent(const Transfer& t, Clock::time_point now) const {
  return t.easy && !t.slot_freed && !t.throttled && now - t.last_data > options.silent_after;
}

bool DownloadEngine::has_silent_copy(int si, Clock::time_point now) const {
  return std::any_of(transfers.begin(), transfers.end(),
                     [&](const auto& t) { return t->server == si && silent(*t, now); });
}

// Is a second copy of `chunk` (held by `holder`) on server `idle` worth starting in the end
// game? Only when the holder's copy looks slow: silent, or its expected remaining time is well
// above what `idle` needs for a whole chunk (measured on its past chunks).
bool DownloadEngine::worth_duplicating(std::size_t chunk, int holder, int idle,
                                       Clock::time_point now) {
  Transfer* t = find_copy(chunk, holder);
  if (!t) return false;
  if (silent(*t, now)) return true;
  // Under --limit-rate every byte of a second copy is taken from the first one's budget: only a
  // silent copy is worth it (a per-server limit is another matter: the idle server's own budget).
  if (limiter->limits_total()) return false;
  double idle_chunk_s = servers[static_cast<std::size_t>(idle)].ema_chunk_s;
  if (idle_chunk_s <= 0) return false;  // nothing known about the idle server yet
  double elapsed = seconds_between(t->start, now);
  if (t->received == 0) return elapsed > 2 * idle_chunk_s;
  double rate = static_cast<double>(t->received) / std::max(elapsed, 1e-3);
  double remaining = static_cast<double>(t->length - t->received) / rate;
  return remaining > 1.5 * idle_chunk_s + 0.02;
}

// What the pacer weighs: each server's backlog (bytes its copies in flight still owe), the bytes
// of the download not yet received, and which servers are usable.
DownloadEngine::Load DownloadEngine::load() const {
  Load l;
  l.backlog.assign(servers.size(), 0);
  l.usable.assign(servers.size(), false);
  for (const auto& t : transfers) {
    if (!t->easy || t->slot_freed) continue;
    std::uint64_t owed = t->length - std::min(t->received, t->length);
    l.remaining += owed;
    l.backlog[static_cast<std::size_t>(t->server)] += owed;
  }
  l.remaining +=
      std::min<std::uint64_t>(manifest.size, planner->unassigned() * manifest.chunk_size);
  for (std::size_t i = 0; i < servers.size(); ++i) l.usable[i] = !servers[i].report.dropped;
  return l;
}

// May server `si` take one more fresh chunk, given its measured rate and what it still owes
// (ServerPacer)?
bool DownloadEngine::paced(int si) const {
  Load l = load();
  auto i = static_cast<std::size_t>(si);
  bool others_in_flight = false;
  for (std::size_t j = 0; j < servers.size(); ++j)
    others_in_flight |= j != i && servers[j].in_flight > 0;
  return pacer.may_start(i, servers[i].in_flight, l.backlog[i], manifest.chunk_size, l.remaining,
                         l.usable, others_in_flight);
}

// While unassigned chunks remain, an overcommitted server (ServerPacer) gives back its first copy
// (not a second one) with the fewest bytes received; the chunk goes back to the queue for a
// faster server.
void DownloadEngine::give_back_overcommitted(Clock::time_point now) {
  if (planner->unassigned() == 0) return;
  Load l = load();
  for (std::size_t i = 0; i < servers.size(); ++i) {
    if (!pacer.overcommitted(i, servers[i].in_flight, l.backlog[i], l.remaining, l.usable))
      continue;
    Transfer* least = nullptr;
    for (auto& t : transfers) {
      if (t->easy && !t->slot_freed && !t->duplicate && t->server == static_cast<int>(i) &&
          (!least || t->received < least->received))
        least = t.get();
    }
    if (!least) continue;
    ++servers[i].report.given_back;
    finish(*least, Fault::kCanceled, "", now);
  }
  remove_ended();
}

void DownloadEngine::pace(Clock::time_point now) {
  std::vector<bool> busy(servers.size());
  for (std::size_t i = 0; i < servers.size(); ++i) busy[i] = servers[i].in_flight > 0;
  pacer.tick(now, busy);
}

}  // namespace dfd::client
