// dfd wire library: printable text (text.hpp), moved from the client so that the decoders and
// the client's output share one rule.
#include "dfd/wire/text.hpp"

#include <cstdint>
#include <cstdio>

#include "dfd/utf8.hpp"

namespace dfd::wire {

namespace {
void append_escape(std::string& out, const char* fmt, unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, fmt, v);
  out += buf;
}

bool invisible_control(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}
}  // namespace

std::string printable(std::string_view s, bool keep_newlines) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    auto c = static_cast<unsigned char>(s.front());
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      s.remove_prefix(1);
      continue;
    }
    if (c < 0x80) {
      if (c == '\n' && keep_newlines) {
        out += '\n';
      } else if (c == '\n' || c == '\t' || c == '\r') {
        out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r";
      } else {
        append_escape(out, "\\x%02x", c);
      }
      s.remove_prefix(1);
      continue;
    }
    std::uint32_t cp = 0;
    std::size_t n = utf8::sequence(s, 0, cp);
    if (n == 0) {
      append_escape(out, "\\x%02x", c);
      s.remove_prefix(1);
    } else {
      if (invisible_control(cp))
        append_escape(out, "\\u%04x", cp);
      else
        out.append(s.substr(0, n));
      s.remove_prefix(n);
    }
  }
  return out;
}

bool is_printable_text(std::string_view s) {
  return printable(s) == s;
}

}  // namespace dfd::wire
