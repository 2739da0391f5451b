// UTF-8 decoding for every check of untrusted text (event fields, catalog names, what the client
// prints): one decoder, so the server and the client agree on what is valid. Implemented in
// dfd::sdk_support. Pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dfd::utf8 {

// Length of the UTF-8 sequence that starts at s[i] (i < s.size()) and its code point in `cp`;
// 0 when it is not well-formed per RFC 3629 (truncated, a stray continuation byte, an overlong
// form, a surrogate or a value above U+10FFFF). Never reads past `s`.
std::size_t sequence(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept;

}  // namespace dfd::utf8
