// Sizes and rates as a person types them on the command line or in the config file: `500K`,
// `20M`, `1.5G`, `123` (bytes). One parser for every such option (--limit-rate, --per-server-rate,
// config keys). Pure, no I/O, thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace dfd::client {

// What parse_rate() accepts, for error messages: "RATE is ..." (no trailing period).
constexpr const char* kRateSyntax =
    "a number of bytes with an optional K, M, G or T suffix (powers of 1024), "
    "e.g. 500K, 20M, 1.5G or 65536";

// The largest value parse_rate() returns: 2^53 (8 PiB), the largest integer a double holds
// exactly; anything above is refused as an overflow.
constexpr double kMaxRate = 9007199254740992.0;

// `500K` -> 512000, `20M` -> 20971520, `1.5G` -> 1610612736, `123` -> 123 (bytes), `0` -> 0.
// Grammar (case-insensitive, no spaces): DIGITS [ "." DIGITS ] [ K | M | G | T ] [ "i" ] [ "B" ]
// [ "/s" ], where "i" needs a K/M/G/T before it; so `20MB`, `20MiB`, `20M/s`, `20MiB/s`, `64B`
// are all accepted, and K/M/G/T always mean 1024, 1024^2, 1024^3, 1024^4 (never 1000).
// Returns nullopt for anything else: empty text, a sign (negative or "+"), an exponent, hex,
// inf/nan, spaces, two dots, a missing number (".5", "K"), unknown suffixes, or a value above
// kMaxRate.
std::optional<double> parse_rate(std::string_view text);

}  // namespace dfd::client
