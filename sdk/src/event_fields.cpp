#include "event_fields.hpp"

#include <cstdint>

#include "dfd/storage.hpp"
#include "dfd/utf8.hpp"

namespace dfd::events::fields {

namespace {
bool is_lower_hex_char(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_visible_ascii(char c) noexcept {
  return c > 0x20 && c < 0x7f;
}
}  // namespace

bool is_lower_hex(std::string_view s, std::size_t len) noexcept {
  if (s.size() != len) return false;
  for (char c : s) {
    if (!is_lower_hex_char(c)) return false;
  }
  return true;
}

bool is_digest_hex(std::string_view s) noexcept {
  return is_lower_hex(s, 64) || is_lower_hex(s, 128);
}

std::size_t digest_hex_length(std::string_view alg) noexcept {
  if (alg == "sha256" || alg == "sha3-256") return 64;
  if (alg == "sha512" || alg == "blake2b-512") return 128;
  return 0;
}

bool is_token_text(std::string_view s, std::size_t max) noexcept {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!is_visible_ascii(c)) return false;
  }
  return true;
}

bool is_http_url(std::string_view s, std::size_t max) noexcept {
  if (!is_token_text(s, max)) return false;
  const bool http = s.substr(0, 7) == "http://" && s.size() > 7;
  const bool https = s.substr(0, 8) == "https://" && s.size() > 8;
  return http || https;
}

bool is_display_safe_name(std::string_view s, std::size_t max) noexcept {
  if (s.empty() || s.size() > max) return false;
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = utf8::sequence(s, i, cp);
    if (n == 0) return false;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return false;  // C0, DEL, C1
    if (cp == 0x2028 || cp == 0x2029) return false;             // line/paragraph separators
    if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
      return false;  // bidi overrides and isolates: a name that prints as another one
    }
    i += n;
  }
  return is_safe_relative_path(s);
}

bool json_shape_within(std::string_view body, std::size_t max_depth,
                       std::size_t max_values) noexcept {
  std::size_t depth = 0;
  std::size_t values = 1;  // the top-level value
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character (a \uXXXX's digits are plain characters)
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
      if (++values > max_values) return false;  // its first element
    } else if (c == ',') {
      if (++values > max_values) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

}  // namespace dfd::events::fields
