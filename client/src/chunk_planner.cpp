#include "chunk_planner.hpp"

#include <algorithm>

namespace dfd::client {

ChunkPlanner::ChunkPlanner(std::size_t chunks) : state_(chunks) {
  for (std::size_t i = 0; i < chunks; ++i) unassigned_.insert(unassigned_.end(), i);
}

void ChunkPlanner::mark_verified(std::size_t chunk) {
  auto& c = state_.at(chunk);
  if (c.verified) return;
  c.verified = true;
  c.copies.clear();
  unassigned_.erase(chunk);
  in_flight_.erase(chunk);
  ++verified_count_;
  advance_prefix();
}

void ChunkPlanner::advance_prefix() {
  while (prefix_ < state_.size() && state_[prefix_].verified) ++prefix_;
}

std::optional<std::size_t> ChunkPlanner::assign(int server, Clock::time_point now) {
  if (unassigned_.empty()) return std::nullopt;
  std::size_t chunk = *unassigned_.begin();
  unassigned_.erase(unassigned_.begin());
  state_[chunk].copies.push_back({server, now});
  in_flight_.insert(chunk);
  return chunk;
}

std::optional<std::size_t> ChunkPlanner::assign_duplicate(
    int server, Clock::time_point now, const std::function<bool(std::size_t, int)>& worth,
    std::size_t max_copies) {
  if (!unassigned_.empty()) return std::nullopt;
  return add_copy(server, now, worth, max_copies);
}

std::optional<std::size_t> ChunkPlanner::assign_rescue(
    int server, Clock::time_point now, const std::function<bool(std::size_t, int)>& stalled,
    std::size_t max_copies) {
  if (!stalled) return std::nullopt;
  return add_copy(server, now, stalled, max_copies);
}

// The in-flight chunk whose oldest copy started first, with fewer than `max_copies` copies, none
// held by `server`, accepted by `worth` (if given); registers `server`'s copy of it.
std::optional<std::size_t> ChunkPlanner::add_copy(
    int server, Clock::time_point now, const std::function<bool(std::size_t, int)>& worth,
    std::size_t max_copies) {
  std::optional<std::size_t> best;
  Clock::time_point best_start{};
  for (std::size_t chunk : in_flight_) {
    const auto& c = state_[chunk];
    if (c.copies.empty() || c.copies.size() >= max_copies) continue;
    bool mine = std::any_of(c.copies.begin(), c.copies.end(),
                            [&](const Copy& k) { return k.server == server; });
    if (mine) continue;
    auto oldest = std::min_element(c.copies.begin(), c.copies.end(),
                                   [](const Copy& a, const Copy& b) { return a.start < b.start; });
    if (best && oldest->start >= best_start) continue;
    if (worth && !worth(chunk, oldest->server)) continue;
    best = chunk;
    best_start = oldest->start;
  }
  if (best) state_[*best].copies.push_back({server, now});
  return best;
}

void ChunkPlanner::release(std::size_t chunk, int server) {
  auto& c = state_.at(chunk);
  auto it = std::find_if(c.copies.begin(), c.copies.end(),
                         [&](const Copy& k) { return k.server == server; });
  if (it == c.copies.end()) return;
  c.copies.erase(it);
  if (c.copies.empty()) {
    in_flight_.erase(chunk);
    if (!c.verified) unassigned_.insert(chunk);
  }
}

std::vector<int> ChunkPlanner::complete(std::size_t chunk, int server) {
  auto& c = state_.at(chunk);
  std::vector<int> others;
  for (const auto& k : c.copies)
    if (k.server != server) others.push_back(k.server);
  c.copies.clear();
  in_flight_.erase(chunk);
  unassigned_.erase(chunk);
  if (!c.verified) {
    c.verified = true;
    ++verified_count_;
    advance_prefix();
  }
  return others;
}

std::vector<bool> ChunkPlanner::verified_bitmap() const {
  std::vector<bool> out(state_.size());
  for (std::size_t i = 0; i < state_.size(); ++i) out[i] = state_[i].verified;
  return out;
}

}  // namespace dfd::client
