#include "dfd/wire/range.hpp"

#include <algorithm>
#include <limits>

namespace dfd::wire {

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::string_view kUnit = "bytes";

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

std::string_view trim_ows(std::string_view v) noexcept {
  while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  return v;
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

// 1*DIGIT at s[i] that fits 64 bits exactly; false on no digit or overflow.
bool parse_exact(std::string_view s, std::size_t& i, std::uint64_t& out) noexcept {
  bool overflow = false;
  return parse_digits(s, i, out, overflow) && !overflow;
}

bool is_unit(std::string_view s) noexcept {
  if (s.size() != kUnit.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kUnit[i]) return false;
  }
  return true;
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[20];
  std::size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out += buf[--n];
}

}  // namespace

std::optional<RangeHeader> RangeHeader::parse(std::string_view v) noexcept {
  try {
    v = trim_ows(v);
    auto eq = v.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    if (!is_unit(v.substr(0, eq))) return std::nullopt;
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

std::string format_range_request(std::uint64_t first, std::uint64_t last) {
  std::string out(kUnit);
  out += '=';
  append_uint(out, first);
  out += '-';
  append_uint(out, last);
  return out;
}

std::optional<ContentRange> parse_content_range(std::string_view v) noexcept {
  v = trim_ows(v);
  if (v.size() > kMaxContentRangeBytes) return std::nullopt;
  if (v.size() <= kUnit.size() || !is_unit(v.substr(0, kUnit.size())) || v[kUnit.size()] != ' ')
    return std::nullopt;
  v.remove_prefix(kUnit.size() + 1);
  ContentRange r;
  std::size_t i = 0;
  if (!parse_exact(v, i, r.first)) return std::nullopt;  // also refuses "*/N"
  if (i >= v.size() || v[i++] != '-') return std::nullopt;
  if (!parse_exact(v, i, r.last) || r.last < r.first) return std::nullopt;
  if (i >= v.size() || v[i++] != '/') return std::nullopt;
  if (v.substr(i) == "*") return r;
  std::uint64_t complete = 0;
  if (!parse_exact(v, i, complete) || i != v.size() || complete <= r.last) return std::nullopt;
  r.complete_length = complete;
  return r;
}

void append_content_range(std::string& out, std::uint64_t first, std::uint64_t last,
                          std::uint64_t complete_length) {
  out += kUnit;
  out += ' ';
  append_uint(out, first);
  out += '-';
  append_uint(out, last);
  out += '/';
  append_uint(out, complete_length);
}

void append_unsatisfied_range(std::string& out, std::uint64_t complete_length) {
  out += kUnit;
  out += " */";
  append_uint(out, complete_length);
}

std::string format_content_range(std::uint64_t first, std::uint64_t last,
                                 std::uint64_t complete_length) {
  std::string out;
  append_content_range(out, first, last, complete_length);
  return out;
}

std::string format_unsatisfied_range(std::uint64_t complete_length) {
  std::string out;
  append_unsatisfied_range(out, complete_length);
  return out;
}

}  // namespace dfd::wire
