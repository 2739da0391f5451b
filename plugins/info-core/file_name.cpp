#include "file_name.hpp"

#include <cstdint>
#include <cstdio>

#include "dfd/utf8.hpp"

namespace dfd::info {

namespace {
constexpr std::size_t kMaxName = 4096;

std::string at(const char* what, std::size_t offset, unsigned char byte) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", byte);
  return std::string(what) + " (byte " + hex + " at offset " + std::to_string(offset) + ")";
}
}  // namespace

std::string file_name_problem(std::string_view name) {
  if (name.empty()) return "the file name is empty";
  if (name.size() > kMaxName) return "the file name is longer than 4096 bytes";
  for (std::size_t i = 0; i < name.size();) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return at("the file name contains a control character", i, c);
    std::uint32_t cp = 0;
    std::size_t n = utf8::sequence(name, i, cp);
    if (n == 0) return at("the file name is not valid UTF-8", i, c);
    if (cp >= 0x80 && cp <= 0x9f) return at("the file name contains a C1 control character", i, c);
    i += n;
  }
  return {};
}

}  // namespace dfd::info
