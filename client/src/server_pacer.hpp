// ServerPacer: how much work each file server may hold, from its measured throughput. Pure logic,
// no I/O, not thread-safe (owned by the download loop's thread).
//
// Pulling chunks (ChunkPlanner: a server with a free slot asks for the next one) already gives a
// faster server more chunks. What pulling alone gets wrong is the commitment: a server takes a
// chunk whenever it has a free slot, even when it will deliver that chunk long after the others
// have finished everything else. On links of different speed, or on a link throttled in the
// middle of a download, its last chunks then decide when the download ends (the end game's second
// copies repair that, at the price of the bytes already fetched twice).
//
// The pacer measures each server's rate and refuses a new chunk to a server whose backlog (the
// bytes it still owes on its copies in flight, plus the new chunk) would take it longer than the
// whole download still needs at the rate of every usable server together:
//
//     (backlog + chunk) / rate(server)  >  remaining / (sum of the rates)   ->  no new chunk
//
// so each server holds about its own share of what is left, and a server whose link got slower
// stops taking chunks at once (its share moves to the others). A server already holding more
// than that by half again (it took its chunks before its rate was known, or its link got slower
// since) is overcommitted: the caller gives back its copy with the fewest bytes so far, to be
// fetched by a faster server, while unassigned chunks remain (the end game's second copies
// handle the last ones). It never starves a server: one with nothing in flight may always take a
// chunk and one with a single copy keeps it (this keeps its rate measured, so a link that
// recovers gets its share back; only in the last 8 chunks of the download is an idle server left
// idle if that one chunk would take it over twice what the rest needs), and a server whose rate
// is not known yet is not limited.
//
// Rates: bytes received from a server (on_bytes) are summed over windows of `window`; at the end
// of a window (tick) a server that had a copy in flight at both ends of it gets a sample
// bytes/seconds, folded into its estimate with weight `alpha` (0.5: a throttled link is seen
// within a second). A server idle at either end keeps its old estimate.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dfd::client {

class ServerPacer {
 public:
  using Clock = std::chrono::steady_clock;
  // The tail: the last this many chunks, where an idle slow server is not handed one.
  static constexpr std::uint64_t kTail = 8;

  explicit ServerPacer(std::chrono::milliseconds window = std::chrono::milliseconds(250),
                       double alpha = 0.5);

  // Grows to `servers` entries (servers are only ever added, e.g. on a token renewal).
  void resize(std::size_t servers);
  std::size_t size() const { return servers_.size(); }

  // `n` body bytes arrived from `server` (any copy, duplicates included).
  void on_bytes(std::size_t server, std::uint64_t n);

  // Call often (every loop turn); closes the window when it is `window` old. `busy[i]`: server i
  // has at least one copy in flight now. The first call only opens the first window.
  void tick(Clock::time_point now, const std::vector<bool>& busy);

  // Estimated bytes/s of `server` (0 until measured, or when it sends nothing).
  double rate(std::size_t server) const { return servers_.at(server).rate; }
  bool measured(std::size_t server) const { return servers_.at(server).measured; }

  // May `server` start one more chunk of `chunk_bytes`? `in_flight`: its copies in flight;
  // `backlog`: the bytes it still owes on them; `remaining`: bytes of the download not yet
  // received (unassigned chunks + what copies in flight still owe); `usable[i]`: server i counts
  // towards the total rate (not dropped).
  bool may_start(std::size_t server, std::size_t in_flight, std::uint64_t backlog,
                 std::uint64_t chunk_bytes, std::uint64_t remaining,
                 const std::vector<bool>& usable) const;

  // Should `server` give back one of its `in_flight` copies? (Same arguments as may_start.)
  bool overcommitted(std::size_t server, std::size_t in_flight, std::uint64_t backlog,
                     std::uint64_t remaining, const std::vector<bool>& usable) const;

 private:
  // Bytes/s of the usable servers together.
  double total_rate(const std::vector<bool>& usable) const;

  struct State {
    std::uint64_t window_bytes = 0;
    bool busy_at_open = false;
    double rate = 0;
    bool measured = false;
  };
  std::chrono::milliseconds window_;
  double alpha_;
  Clock::time_point opened_{};
  bool open_ = false;
  std::vector<State> servers_;
};

}  // namespace dfd::client
