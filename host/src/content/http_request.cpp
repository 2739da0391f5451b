#include "content/http_request.hpp"

#include <cstring>

namespace dfd::host {

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

std::string_view trim_ows(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Sets close/keep-alive from a Connection field value (a comma-separated token list).
void parse_connection(std::string_view v, RequestHead* h) noexcept {
  while (!v.empty()) {
    auto comma = v.find(',');
    std::string_view tok = trim_ows(v.substr(0, comma));
    if (ascii_iequals(tok, "close")) h->connection_close = true;
    if (ascii_iequals(tok, "keep-alive")) h->connection_keep_alive = true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

HeadParse parse_request_head(const char* data, std::size_t len, std::size_t max_head,
                             RequestHead* head, std::size_t* consumed) noexcept {
  // Skip empty lines before the request line (RFC 9112 §2.2 allows at least one).
  std::size_t pos = 0;
  while (pos < len && (data[pos] == '\r' || data[pos] == '\n')) ++pos;
  if (pos >= len) {
    if (len >= max_head) return HeadParse::kTooLarge;
    return HeadParse::kIncomplete;
  }
  // Find the end of the head: an empty line.
  std::size_t end = std::string_view::npos;  // index one past the final LF
  std::size_t limit = len < max_head ? len : max_head;
  for (std::size_t i = pos; i < limit; ++i) {
    if (data[i] != '\n') continue;
    if (i + 1 < len && data[i + 1] == '\n') {
      end = i + 2;
      break;
    }
    if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n') {
      end = i + 3;
      break;
    }
  }
  if (end == std::string_view::npos || end > max_head) {
    if (len >= max_head) return HeadParse::kTooLarge;
    // Not even the start of a request line (a TLS ClientHello, binary garbage): refuse now
    // rather than wait for a head that will never come.
    for (std::size_t i = pos; i < len && data[i] != ' '; ++i) {
      if (!is_tchar(data[i])) return HeadParse::kBad;
    }
    return HeadParse::kIncomplete;
  }

  RequestHead h;
  std::string_view all(data + pos, end - pos);
  auto next_line = [&all]() -> std::string_view {
    auto nl = all.find('\n');
    std::string_view line = all.substr(0, nl);
    all.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };

  // Request line: method SP request-target SP HTTP-version
  std::string_view line = next_line();
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return HeadParse::kBad;
  h.method = line.substr(0, sp1);
  for (char c : h.method) {
    if (!is_tchar(c)) return HeadParse::kBad;
  }
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return HeadParse::kBad;
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : h.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return HeadParse::kBad;
  }
  std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return HeadParse::kBad;
  }
  if (version[5] != '1') return HeadParse::kBadVersion;
  h.version_minor = version[7] - '0';

  // Header fields.
  while (true) {
    line = next_line();
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return HeadParse::kBad;  // obs-fold
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return HeadParse::kBad;
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!is_tchar(c)) return HeadParse::kBad;  // also rejects "Name :" (space before colon)
    }
    std::string_view value = trim_ows(line.substr(colon + 1));
    for (char c : value) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return HeadParse::kBad;
    }
    switch (lower(name[0])) {
      case 'a':
        if (ascii_iequals(name, "authorization")) {
          h.authorization = value;
          ++h.authorization_count;
        }
        break;
      case 'r':
        if (ascii_iequals(name, "range")) {
          h.range = value;
          ++h.range_count;
        }
        break;
      case 'i':
        if (ascii_iequals(name, "if-range")) h.if_range = value;
        break;
      case 'c':
        if (ascii_iequals(name, "connection")) {
          parse_connection(value, &h);
        } else if (ascii_iequals(name, "content-length")) {
          bool digits = !value.empty();
          bool nonzero = false;
          for (char c : value) {
            if (c < '0' || c > '9') digits = false;
            if (c > '0' && c <= '9') nonzero = true;
          }
          // More than 18 digits cannot be a length we would honour (and may not fit 64 bits).
          if (!digits || value.size() > 18) h.bad_content_length = true;
          if (nonzero) h.has_body = true;
        }
        break;
      case 't':
        if (ascii_iequals(name, "transfer-encoding")) h.has_body = true;
        break;
      case 'x':
        if (ascii_iequals(name, "x-request-id")) h.request_id = value;
        break;
      default:
        break;
    }
  }
  *head = h;
  *consumed = end;
  return HeadParse::kComplete;
}

}  // namespace dfd::host
