#include "content/range_header.hpp"

#include <algorithm>
#include <limits>

namespace dfd::host {

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Parses 1*DIGIT at s[i]; saturates at 2^64-1 and reports it. False when no digit.
bool parse_digits(std::string_view s, std::size_t& i, std::uint64_t& out, bool& overflow) noexcept {
  std::size_t start = i;
  out = 0;
  overflow = false;
  while (i < s.size() && is_digit(s[i])) {
    auto d = static_cast<std::uint64_t>(s[i] - '0');
    if (out > (kMax - d) / 10) {
      overflow = true;
      out = kMax;
    } else if (!overflow) {
      out = out * 10 + d;
    }
    ++i;
  }
  return i > start;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<RangeHeader> RangeHeader::parse(std::string_view v) noexcept {
  try {
    // Trim surrounding whitespace of the field value.
    while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
    while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
    auto eq = v.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    if (!iequals(v.substr(0, eq), "bytes")) return std::nullopt;
    std::string_view set = v.substr(eq + 1);

    RangeHeader h;
    std::size_t i = 0;
    bool any = false;
    while (true) {
      while (i < set.size() && is_ows(set[i])) ++i;
      if (i < set.size() && set[i] == ',') {  // empty list element
        ++i;
        continue;
      }
      if (i >= set.size()) break;
      if (h.specs_.size() >= kMaxSpecs) return std::nullopt;
      RangeSpec spec;
      bool ovf = false;
      if (set[i] == '-') {
        ++i;
        spec.suffix = true;
        if (!parse_digits(set, i, spec.first, ovf)) return std::nullopt;
        spec.first_overflow = ovf;
      } else {
        if (!parse_digits(set, i, spec.first, ovf)) return std::nullopt;
        spec.first_overflow = ovf;
        if (i >= set.size() || set[i] != '-') return std::nullopt;
        ++i;
        if (i < set.size() && is_digit(set[i])) {
          bool last_ovf = false;
          parse_digits(set, i, spec.last, last_ovf);  // saturated last-pos means "to the end"
          if (!ovf && spec.last < spec.first) return std::nullopt;
          if (ovf && !last_ovf) return std::nullopt;  // first > 2^64-1 > last
        } else {
          spec.open_end = true;
        }
      }
      h.specs_.push_back(spec);
      any = true;
      while (i < set.size() && is_ows(set[i])) ++i;
      if (i >= set.size()) break;
      if (set[i] != ',') return std::nullopt;
      ++i;
    }
    if (!any) return std::nullopt;
    return h;
  } catch (...) {
    return std::nullopt;  // allocation failure: behave as if the header were absent
  }
}

RangeHeader::Resolved RangeHeader::resolve(std::uint64_t length, std::size_t max_ranges) const {
  Resolved r;
  std::vector<ByteRange> ranges;
  ranges.reserve(specs_.size());
  for (const RangeSpec& s : specs_) {
    if (length == 0) continue;  // nothing is satisfiable in an empty representation
    if (s.suffix) {
      if (s.first == 0) continue;  // "-0" is unsatisfiable
      std::uint64_t n = std::min(s.first, length);
      ranges.push_back({length - n, length - 1});
    } else {
      if (s.first_overflow || s.first >= length) continue;
      std::uint64_t last = s.open_end ? length - 1 : std::min(s.last, length - 1);
      ranges.push_back({s.first, last});
    }
  }
  if (ranges.empty()) {
    r.outcome = Outcome::kUnsatisfiable;
    return r;
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  std::vector<ByteRange> merged;
  merged.reserve(ranges.size());
  for (const ByteRange& b : ranges) {
    // Overlapping or adjacent (b starts at most one past the previous end) → coalesce.
    if (!merged.empty() && b.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, b.last);
    } else {
      merged.push_back(b);
    }
  }
  if (merged.size() > max_ranges) {
    r.outcome = Outcome::kFull;
    return r;
  }
  r.outcome = Outcome::kPartial;
  r.ranges = std::move(merged);
  return r;
}

}  // namespace dfd::host
