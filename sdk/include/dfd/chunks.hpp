// How a file is cut into chunks, for everyone who checks a chunk list against a size: the event
// decoders, the info server's catalog, the client's manifest and state file. Header-only.
#pragma once

#include <cstdint>

namespace dfd {

// Number of chunks of `chunk_size` bytes covering `size` bytes: ceil(size / chunk_size), computed
// without the overflow of (size + chunk_size - 1) / chunk_size; 0 when chunk_size is 0.
constexpr std::uint64_t chunk_count(std::uint64_t size, std::uint64_t chunk_size) noexcept {
  if (chunk_size == 0) return 0;
  return size / chunk_size + (size % chunk_size != 0 ? 1 : 0);
}

}  // namespace dfd
