#include "file_name.hpp"

#include <cstdio>

namespace dfd::info_sqlite {

namespace {
constexpr std::size_t kMaxName = 4096;

std::string at(const char* what, std::size_t offset, unsigned char byte) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", byte);
  return std::string(what) + " (byte " + hex + " at offset " + std::to_string(offset) + ")";
}

// Length of the UTF-8 sequence starting at s[i] (0 when malformed), per RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xc0) == 0x80; };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xe0 && b(i + 1) < 0xa0) return 0;   // overlong
    if (c == 0xed && b(i + 1) >= 0xa0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xf0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xf4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}
}  // namespace

std::string file_name_problem(std::string_view name) {
  if (name.empty()) return "the file name is empty";
  if (name.size() > kMaxName) return "the file name is longer than 4096 bytes";
  for (std::size_t i = 0; i < name.size();) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return at("the file name contains a control character", i, c);
    std::size_t n = utf8_length(name, i);
    if (n == 0) return at("the file name is not valid UTF-8", i, c);
    // U+0080..U+009F are C1 controls: C2 80 .. C2 9F.
    if (n == 2 && c == 0xc2 && static_cast<unsigned char>(name[i + 1]) <= 0x9f) {
      return at("the file name contains a C1 control character", i, c);
    }
    i += n;
  }
  return {};
}

}  // namespace dfd::info_sqlite
