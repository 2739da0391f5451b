// JSON the client reads from the network (info server replies) or from a --manifest file, parsed
// within the wire library's bounds (dfd/wire/json_limits.hpp: size, depth, number of values), so
// that a hostile or broken server cannot make the client use unbounded memory.
// Pure: no I/O, no global state; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dfd/wire/json_limits.hpp"

namespace dfd::client {

constexpr std::size_t kMaxJsonBytes = wire::JsonLimits::kMaxBytes;
constexpr int kMaxJsonDepth = wire::JsonLimits::kMaxDepth;
constexpr std::size_t kMaxJsonValues = wire::JsonLimits::kMaxValues;

// Parses `text`; nullopt with `why` ("not JSON", "nested deeper than 32 levels", …) when it is
// not JSON or breaks a limit.
std::optional<nlohmann::json> parse_bounded_json(std::string_view text, std::string* why);

}  // namespace dfd::client
