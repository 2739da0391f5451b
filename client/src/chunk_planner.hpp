// ChunkPlanner: which chunk a server fetches next. Pure logic, no I/O, not thread-safe (owned by
// the download loop's thread).
//
// Each chunk is missing, in flight (one or more copies, each held by a server) or verified.
// assign() hands out the lowest missing chunk nobody holds, so the verified prefix grows from the
// start (cheap whole-file hashing) and whichever server asks first gets work: faster servers ask
// more often and carry more. When nothing unassigned is left, assign_duplicate() gives an idle
// server a second copy of the oldest chunk held by another server (end game); assign_rescue() does
// the same at any time for copies the caller judges stalled. The first copy verified wins and
// complete() returns the other holders so the caller can cancel them.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <vector>

namespace dfd::client {

class ChunkPlanner {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ChunkPlanner(std::size_t chunks);

  std::size_t size() const { return state_.size(); }
  // Marks a chunk verified without a copy (a resumed download's state).
  void mark_verified(std::size_t chunk);

  // The lowest missing chunk with no copy in flight, now held by `server`; nullopt if none.
  std::optional<std::size_t> assign(int server, Clock::time_point now);

  // End game (only when unassigned() == 0): the oldest in-flight chunk with fewer than
  // `max_copies` copies, none held by `server`, for which `worth(chunk, holder_server)` is true
  // (holder = the server of its oldest copy). Registers the new copy. nullopt if none qualifies.
  std::optional<std::size_t> assign_duplicate(
      int server, Clock::time_point now,
      const std::function<bool(std::size_t chunk, int holder)>& worth, std::size_t max_copies = 2);

  // Like assign_duplicate(), but also while unassigned chunks remain: for taking a chunk away
  // from a holder that has gone silent (`stalled(chunk, holder)`) before the end game.
  std::optional<std::size_t> assign_rescue(
      int server, Clock::time_point now,
      const std::function<bool(std::size_t chunk, int holder)>& stalled,
      std::size_t max_copies = 2);

  // A copy ended without a verified result (failure or cancel). The chunk goes back to the
  // unassigned queue when it has no copy left and is not verified. Unknown copies are ignored.
  void release(std::size_t chunk, int server);

  // `server`'s copy verified: the chunk is verified; returns the servers still holding other
  // copies (they are removed from the planner; the caller cancels their transfers).
  std::vector<int> complete(std::size_t chunk, int server);

  bool verified(std::size_t chunk) const { return state_[chunk].verified; }
  std::size_t copies(std::size_t chunk) const { return state_[chunk].copies.size(); }
  std::size_t verified_count() const { return verified_count_; }
  std::size_t verified_prefix() const { return prefix_; }  // leading verified chunks
  std::size_t unassigned() const { return unassigned_.size(); }
  // The chunk assign() would hand out next (the lowest missing chunk without a copy), if any.
  std::optional<std::size_t> first_unassigned() const {
    if (unassigned_.empty()) return std::nullopt;
    return *unassigned_.begin();
  }
  std::size_t in_flight() const { return in_flight_.size(); }
  bool done() const { return verified_count_ == state_.size(); }
  std::vector<bool> verified_bitmap() const;

 private:
  struct Copy {
    int server;
    Clock::time_point start;
  };
  struct ChunkState {
    bool verified = false;
    std::vector<Copy> copies;
  };
  void advance_prefix();
  std::optional<std::size_t> add_copy(int server, Clock::time_point now,
                                      const std::function<bool(std::size_t, int)>& worth,
                                      std::size_t max_copies);

  std::vector<ChunkState> state_;
  std::set<std::size_t> unassigned_;  // missing, no copy
  std::set<std::size_t> in_flight_;   // at least one copy
  std::size_t verified_count_ = 0;
  std::size_t prefix_ = 0;
};

}  // namespace dfd::client
