// Field checks shared by the broker event decoders (sdk/src/events.cpp): pure, total, bounded
// predicates over untrusted bytes. Each returns false for anything outside its exact rule; none
// allocates, throws or reads past `s`. Internal to dfd::sdk_support (not an installed header).
#pragma once

#include <cstddef>
#include <string_view>

namespace dfd::events::fields {

// Lower-case hex of exactly `len` characters.
bool is_lower_hex(std::string_view s, std::size_t len) noexcept;

// A content digest as dfd writes it: lower-case hex of 64 (sha256, sha3-256) or 128 (sha512,
// blake2b-512) characters.
bool is_digest_hex(std::string_view s) noexcept;

// The hex length the digest algorithm `alg` produces, or 0 when dfd does not know `alg`.
std::size_t digest_hex_length(std::string_view alg) noexcept;

// An identifier (server id, zone, algorithm name): 1..`max` bytes of printable ASCII, no space.
bool is_token_text(std::string_view s, std::size_t max) noexcept;

// An http:// or https:// URL of at most `max` bytes of printable ASCII (no space).
bool is_http_url(std::string_view s, std::size_t max) noexcept;

// A file name fit to be stored and printed: 1..`max` bytes of valid UTF-8 (no overlong form, no
// surrogate, nothing above U+10FFFF) without any control character (U+0000..U+001F, U+007F,
// U+0080..U+009F), line or paragraph separator (U+2028, U+2029) or bidi override/isolate
// (U+202A..U+202E, U+2066..U+2069), and a safe relative path (dfd::is_safe_relative_path: no "..",
// no leading
// '/', no dot segment).
bool is_display_safe_name(std::string_view s, std::size_t max) noexcept;

// True when the JSON text `body` never nests arrays/objects deeper than `max_depth` and holds at
// most `max_values` values (counted from the separators and brackets outside strings, an upper
// bound). Runs before the parser, so a deeply nested body or one of millions of tiny values
// ("[1,1,1,...]", 16 bytes of parsed tree per 2 bytes of input) costs one linear scan, no
// recursion and no allocation.
bool json_shape_within(std::string_view body, std::size_t max_depth,
                       std::size_t max_values) noexcept;

}  // namespace dfd::events::fields
