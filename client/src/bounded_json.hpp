// JSON the client reads from the network (info server replies) or from a --manifest file, parsed
// within fixed limits so that a hostile or broken server cannot make the client use unbounded
// memory: the text is at most kMaxJsonBytes, nested at most kMaxJsonDepth deep, and holds at most
// kMaxJsonValues values (a 16 MiB "[1,1,1,…]" would otherwise become 8 million json objects).
// Pure: no I/O, no global state; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dfd::client {

// 16 MiB: a manifest of a 1 TiB file in 4 MiB chunks (262,144 sha256 digests) is about 17 MB,
// so about 1 TiB at 4 MiB chunks is the largest file one manifest can describe.
constexpr std::size_t kMaxJsonBytes = std::size_t{16} << 20;
constexpr int kMaxJsonDepth = 32;
constexpr std::size_t kMaxJsonValues = std::size_t{2} << 20;

// Parses `text`; nullopt with `why` ("not JSON", "nested deeper than 32 levels", …) when it is
// not JSON or breaks a limit.
std::optional<nlohmann::json> parse_bounded_json(std::string_view text, std::string* why);

}  // namespace dfd::client
