// Fuzz target: the wire library's Range parser and resolver (sdk/src/wire/range.cpp
// RangeHeader, used by the data plane and the test file server) and the Range request formatter.
// Invariants: resolved ranges are sorted, disjoint, not adjacent, inside the length and at most
// max_ranges; for small lengths they cover exactly the bytes the specs name (a bit-set model);
// format_range_request of a closed spec parses back to exactly that spec.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "dfd/wire/range.hpp"
#include "fuzz_check.hpp"

namespace {

using dfd::wire::RangeHeader;
using Outcome = RangeHeader::Outcome;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

void check_shape(const RangeHeader::Resolved& r, std::uint64_t length, std::size_t max_ranges) {
  if (r.outcome != Outcome::kPartial) {
    FUZZ_CHECK(r.ranges.empty());
    return;
  }
  FUZZ_CHECK(!r.ranges.empty() && r.ranges.size() <= max_ranges);
  for (std::size_t i = 0; i < r.ranges.size(); ++i) {
    FUZZ_CHECK(r.ranges[i].first <= r.ranges[i].last && r.ranges[i].last < length);
    if (i > 0) FUZZ_CHECK(r.ranges[i - 1].last + 1 < r.ranges[i].first);
  }
}

// The bytes of a representation of `length` (<= 64) that the specs select, as a bit set.
std::uint64_t model(const RangeHeader& h, std::uint64_t length) {
  std::uint64_t bits = 0;
  for (const auto& s : h.specs()) {
    for (std::uint64_t b = 0; b < length; ++b) {
      bool in = s.suffix ? (s.first > 0 && s.first >= length - b)  // b is in the last N bytes
                         : (!s.first_overflow && b >= s.first && (s.open_end || b <= s.last));
      if (in) bits |= std::uint64_t{1} << b;
    }
  }
  return bits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  auto h = RangeHeader::parse(value);
  if (!h) return 0;
  FUZZ_CHECK(!h->specs().empty() && h->specs().size() <= RangeHeader::kMaxSpecs);
  for (const auto& s : h->specs()) {
    if (s.suffix || s.open_end || s.first_overflow) continue;
    FUZZ_CHECK(s.first <= s.last);
    auto again = RangeHeader::parse(dfd::wire::format_range_request(s.first, s.last));
    FUZZ_CHECK(again && again->specs().size() == 1);
    const auto& t = again->specs()[0];
    FUZZ_CHECK(!t.suffix && !t.open_end && !t.first_overflow && t.first == s.first &&
               t.last == s.last);
  }
  for (std::uint64_t length : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{7},
                               std::uint64_t{64}, std::uint64_t{1} << 40, kMax - 1, kMax}) {
    for (std::size_t max_ranges : {std::size_t{1}, std::size_t{16}, RangeHeader::kMaxSpecs}) {
      auto r = h->resolve(length, max_ranges);
      check_shape(r, length, max_ranges);
      if (length > 64) continue;
      std::uint64_t want = model(*h, length);
      if (want == 0) {
        FUZZ_CHECK(r.outcome == Outcome::kUnsatisfiable);
      } else if (r.outcome == Outcome::kPartial) {
        std::uint64_t got = 0;
        for (const auto& br : r.ranges) {
          for (std::uint64_t b = br.first; b <= br.last; ++b) got |= std::uint64_t{1} << b;
        }
        FUZZ_CHECK(got == want);
      } else {
        FUZZ_CHECK(r.outcome == Outcome::kFull);
      }
    }
  }
  return 0;
}
