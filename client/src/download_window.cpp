// The streaming hooks of DownloadEngine (issue 13, -o -): DownloadOptions.window_bytes limits how
// far ahead of the streamed prefix fresh chunks are fetched (so the part holds about a window),
// and DownloadOptions.on_prefix hands out the verified, hashed prefix.
#include <algorithm>

#include "download_engine.hpp"

namespace dfd::client {

// The window counts from what on_prefix was given (the caller frees that part), else from the
// verified prefix. It is at least one chunk, so the first missing chunk is always allowed once the
// whole-file hasher caught up with the verified prefix; when the hasher failed (a read error,
// reported at the end), nothing waits for it.
bool DownloadEngine::next_chunk_in_window() const {
  if (options.window_bytes == 0 || (prefix_hasher && prefix_hasher->failed())) return true;
  auto next = planner->first_unassigned();
  if (!next) return true;
  std::uint64_t base = options.on_prefix
                           ? prefix_reported
                           : std::min<std::uint64_t>(
                                 manifest.size, planner->verified_prefix() * manifest.chunk_size);
  return manifest.chunk_offset(*next) <
         base + std::max<std::uint64_t>(options.window_bytes, manifest.chunk_size);
}

void DownloadEngine::report_prefix(bool final) {
  if (!options.on_prefix || manifest.chunk_count() == 0) return;
  // Until the whole-file digest matched, the last chunk is held back: a stream of a file whose
  // digest fails ends short instead of complete-looking.
  std::uint64_t n = final ? manifest.size
                          : std::min(prefix_hasher ? prefix_hasher->hashed() : 0,
                                     manifest.chunk_offset(manifest.chunk_count() - 1));
  if (n <= prefix_reported) return;
  // It may block for long (a slow reader downstream). That time is ours, not the servers': loop()
  // calls it first in a turn, so what arrived meanwhile is read before stalls are judged, and the
  // copies' clocks move on by the pause, so none looks silent (and is rescued) because of it.
  auto before = Clock::now();
  options.on_prefix(n);
  prefix_reported = n;
  auto paused = Clock::now() - before;
  for (auto& t : transfers) {
    t->last_data += paused;
    t->start += paused;
  }
}

}  // namespace dfd::client
