// Fuzz target: the data plane's HTTP/1.x request-head parser (host/src/content/http_request.*).
// Invariants: every view points into the input; a complete head's length is within the input and
// the head limit; parsing exactly the bytes of a complete head gives the same head.
#include <cstddef>
#include <cstdint>

#include "content/http_request.hpp"
#include "fuzz_check.hpp"

namespace {

using dfd::host::HeadParse;
using dfd::host::RequestHead;

bool inside(std::string_view v, const char* data, std::size_t len) {
  return v.empty() || (v.data() >= data && v.data() + v.size() <= data + len);
}

bool same(const RequestHead& a, const RequestHead& b) {
  return a.method == b.method && a.target == b.target && a.version_minor == b.version_minor &&
         a.authorization == b.authorization && a.range == b.range && a.if_range == b.if_range &&
         a.range_count == b.range_count && a.authorization_count == b.authorization_count &&
         a.connection_close == b.connection_close &&
         a.connection_keep_alive == b.connection_keep_alive && a.has_body == b.has_body &&
         a.bad_content_length == b.bad_content_length;
}

void check(const char* data, std::size_t len, std::size_t max_head) {
  RequestHead head;
  std::size_t consumed = 0;
  HeadParse r = dfd::host::parse_request_head(data, len, max_head, &head, &consumed);
  if (r != HeadParse::kComplete) return;
  FUZZ_CHECK(consumed > 0 && consumed <= len && consumed <= max_head);
  FUZZ_CHECK(!head.method.empty() && !head.target.empty());
  FUZZ_CHECK(head.version_minor >= 0 && head.version_minor <= 9);
  for (auto v : {head.method, head.target, head.authorization, head.range, head.if_range}) {
    FUZZ_CHECK(inside(v, data, consumed));
  }
  RequestHead again;
  std::size_t consumed_again = 0;
  FUZZ_CHECK(dfd::host::parse_request_head(data, consumed, max_head, &again, &consumed_again) ==
             HeadParse::kComplete);
  FUZZ_CHECK(consumed_again == consumed && same(head, again));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const auto* data = reinterpret_cast<const char*>(bytes);
  check(data, size, 8192);  // the data plane's default head limit
  check(data, size, 64);    // a small limit exercises kTooLarge on the same input
  return 0;
}
