// dfd wire library: the bounds within which JSON from the network (info server replies, a
// --manifest file, an origin's index file) is parsed, so that a hostile or broken peer cannot make
// its reader use unbounded memory or stack: the text is at most kMaxBytes, nested at most
// kMaxDepth deep, and holds at most kMaxValues values (a 16 MiB "[1,1,1,…]" would otherwise become
// 8 million JSON objects). The manifest decoders (manifest.hpp) apply it; a reader that builds its
// own JSON tree calls check_json_limits first. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "dfd/status.hpp"

namespace dfd::wire {

struct JsonLimits {
  // 16 MiB: a manifest of a 1 TiB file in 4 MiB chunks (262,144 sha256 digests) is about 17 MB,
  // so about 1 TiB at 4 MiB chunks is the largest file one manifest can describe.
  static constexpr std::size_t kMaxBytes = std::size_t{16} << 20;
  static constexpr int kMaxDepth = 32;
  static constexpr std::size_t kMaxValues = std::size_t{2} << 20;  // keys count as values
};

// Ok when `text` is one JSON value within JsonLimits; otherwise kInvalidArgument saying why:
// "larger than 16 MiB", "nested deeper than 32 levels", "more than 2097152 JSON values",
// "not JSON". Reads `text` once without building a tree.
Status check_json_limits(std::string_view text);

}  // namespace dfd::wire
