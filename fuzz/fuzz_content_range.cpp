// Fuzz target: the client's Content-Range parser (client/src/util.hpp parse_content_range).
// Invariants: an accepted value has first <= last < total; the canonical form of what was parsed
// parses back to the same numbers.
//
// Not covered: the header-line splitting in the downloader's libcurl header callback
// (client/src/downloader.cpp, Impl::on_header) is not callable on its own.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  auto cr = dfd::client::parse_content_range(value);
  if (!cr) return 0;
  FUZZ_CHECK(cr->first <= cr->last);
  if (cr->total) FUZZ_CHECK(cr->last < *cr->total);
  std::string canonical = "bytes " + std::to_string(cr->first) + "-" + std::to_string(cr->last) +
                          "/" + (cr->total ? std::to_string(*cr->total) : std::string("*"));
  auto again = dfd::client::parse_content_range(canonical);
  FUZZ_CHECK(again && again->first == cr->first && again->last == cr->last &&
             again->total == cr->total);
  return 0;
}
