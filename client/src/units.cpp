#include "units.hpp"

#include <cctype>
#include <cmath>

namespace dfd::client {

namespace {
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char lower_char(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}
}  // namespace

std::optional<double> parse_rate(std::string_view text) {
  std::size_t i = 0;
  // The number: digits, then optionally "." and digits, read as one integer mantissa divided by
  // 10^fraction-digits (one rounding; long digit strings grow into a huge value and are refused
  // below, they never wrap).
  double mantissa = 0;
  double divisor = 1;
  std::size_t int_digits = 0;
  while (i < text.size() && is_digit(text[i])) {
    mantissa = mantissa * 10 + (text[i] - '0');
    ++int_digits;
    ++i;
  }
  if (int_digits == 0) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    ++i;
    std::size_t frac_digits = 0;
    while (i < text.size() && is_digit(text[i])) {
      mantissa = mantissa * 10 + (text[i] - '0');
      divisor *= 10;
      ++frac_digits;
      ++i;
    }
    if (frac_digits == 0) return std::nullopt;  // "5." is a typo, not 5
  }
  double value = mantissa / divisor;
  // The unit: K/M/G/T, then "i" (only after a unit), then "B", then "/s".
  double mult = 1;
  if (i < text.size()) {
    switch (lower_char(text[i])) {
      case 'k':
        mult = 1024.0;
        break;
      case 'm':
        mult = 1024.0 * 1024;
        break;
      case 'g':
        mult = 1024.0 * 1024 * 1024;
        break;
      case 't':
        mult = 1024.0 * 1024 * 1024 * 1024;
        break;
      default:
        break;
    }
    if (mult > 1) {
      ++i;
      if (i < text.size() && lower_char(text[i]) == 'i') ++i;
    }
  }
  if (i < text.size() && lower_char(text[i]) == 'b') ++i;
  if (i + 1 < text.size() && text[i] == '/' && lower_char(text[i + 1]) == 's') i += 2;
  if (i != text.size()) return std::nullopt;
  double bytes = value * mult;
  if (!std::isfinite(bytes) || bytes > kMaxRate) return std::nullopt;
  return bytes;
}

}  // namespace dfd::client
