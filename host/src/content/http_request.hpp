// A bounded, allocation-free HTTP/1.x request-head parser for the data plane.
//
// parse_request_head() looks at the bytes received so far on a connection and, once the whole
// head (request line + header fields + empty line) is there, fills a RequestHead whose string
// views point into the caller's buffer (valid until the buffer changes). Header names are
// compared case-insensitively; only the fields the data plane uses are kept. Lines may end in
// CRLF or a bare LF. Obsolete line folding, NUL bytes and control characters are rejected, and
// so are bytes that cannot start a request line (a method of token characters), before the head
// is complete: a TLS ClientHello or binary garbage is kBad at once, not a wait for an empty line.
// A Content-Length of more than 18 digits is reported as bad_content_length.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <string_view>

namespace dfd::host {

struct RequestHead {
  std::string_view method;
  std::string_view target;
  int version_minor = 1;  // HTTP/1.<minor>
  std::string_view authorization;
  std::string_view range;
  std::string_view if_range;
  int range_count = 0;          // how many Range fields (more than one → ignored)
  int authorization_count = 0;  // how many Authorization fields (more than one → 400)
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool has_body = false;  // Content-Length > 0 or Transfer-Encoding present
  bool bad_content_length = false;
  std::string_view request_id;  // X-Request-Id as sent (the last one); checked by request_id.hpp
};

enum class HeadParse {
  kComplete,    // *head filled, *consumed = bytes of the head
  kIncomplete,  // need more bytes
  kBad,         // malformed → 400
  kTooLarge,    // head longer than max_head → 431
  kBadVersion,  // not HTTP/1.x → 505
};

HeadParse parse_request_head(const char* data, std::size_t len, std::size_t max_head,
                             RequestHead* head, std::size_t* consumed) noexcept;

// Case-insensitive ASCII comparison.
bool ascii_iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace dfd::host
