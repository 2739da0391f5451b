// Fuzz target: the wire library's Content-Range parser and formatter (sdk/src/wire/range.cpp
// parse_content_range, format_content_range), which the client uses on every file server's 206
// and storage-http on its origin's.
// Invariants: an accepted value has first <= last < complete_length (when given) and, once its
// OWS is trimmed, exactly one blank (the SP after the unit) and at most kMaxContentRangeBytes
// bytes; the formatted form of what was parsed parses back to the same numbers and `answers`
// them.
//
// Not covered: the header-line splitting in the client's libcurl header callback
// (client/src/download_transfers.cpp, DownloadEngine::on_header) is not callable on its own.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dfd/wire/range.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  auto cr = dfd::wire::parse_content_range(value);
  if (!cr) return 0;
  FUZZ_CHECK(cr->first <= cr->last);
  if (cr->complete_length) FUZZ_CHECK(cr->last < *cr->complete_length);
  std::string_view v = value;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  FUZZ_CHECK(v.size() <= dfd::wire::kMaxContentRangeBytes);
  std::size_t blanks = 0;
  for (char c : v) blanks += c == ' ' || c == '\t' || c == '\r' || c == '\n';
  FUZZ_CHECK(blanks == 1 && v.find(' ') == 5);
  // "*" formats as any length: the canonical text with a stand-in length must still parse.
  std::uint64_t n = cr->complete_length ? *cr->complete_length : cr->last + 1;
  if (!cr->complete_length && cr->last == UINT64_MAX) return 0;  // no stand-in length exists
  auto again =
      dfd::wire::parse_content_range(dfd::wire::format_content_range(cr->first, cr->last, n));
  FUZZ_CHECK(again && again->first == cr->first && again->last == cr->last &&
             again->complete_length == n && again->answers(cr->first, cr->last, n));
  FUZZ_CHECK(cr->answers(cr->first, cr->last, n));
  return 0;
}
