// RFC 9110 §14 byte ranges: parsing a Range header value and resolving it against a length.
//
// Parsing is pure (no allocation beyond the result), bounded and total: any input either yields
// a list of range specs or "invalid" (which a server ignores, answering 200 with the full body).
// Resolution applies the length: clamps, drops unsatisfiable specs, sorts and coalesces
// overlapping or adjacent ranges, and caps the count.
//
// Thread-safety: values; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace dfd::host {

// One byte-range-spec as written by the client, before the length is known.
struct RangeSpec {
  bool suffix = false;          // "-N": the last `first` bytes (first holds N)
  std::uint64_t first = 0;      // first-pos, or the suffix length
  std::uint64_t last = 0;       // last-pos (inclusive) when !open_end
  bool open_end = false;        // "N-": to the end
  bool first_overflow = false;  // first-pos/suffix did not fit 64 bits (saturated)
};

// An inclusive byte range [first, last] of a representation.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t length() const noexcept { return last - first + 1; }
  bool operator==(const ByteRange& o) const noexcept { return first == o.first && last == o.last; }
};

class RangeHeader {
 public:
  // At most this many specs are parsed; a longer list is treated as invalid (ignored).
  static constexpr std::size_t kMaxSpecs = 1024;

  // Parses a Range field value ("bytes=0-99, -5"). The unit is case-insensitive; whitespace
  // around commas is allowed, empty list elements are skipped (RFC 9110 §5.6.1). nullopt when the
  // value is not a valid bytes range set (other unit, missing digits, last < first, junk).
  static std::optional<RangeHeader> parse(std::string_view value) noexcept;

  enum class Outcome {
    kFull,           // serve 200 with the whole representation (e.g. too many ranges)
    kPartial,        // serve 206 with `ranges` (one → single part, several → multipart)
    kUnsatisfiable,  // serve 416 with Content-Range: bytes */length
  };
  struct Resolved {
    Outcome outcome = Outcome::kFull;
    std::vector<ByteRange> ranges;  // sorted, coalesced, non-empty when kPartial
  };

  // Applies a representation `length`. More than `max_ranges` ranges after coalescing → kFull.
  Resolved resolve(std::uint64_t length, std::size_t max_ranges) const;

  const std::vector<RangeSpec>& specs() const noexcept { return specs_; }

 private:
  std::vector<RangeSpec> specs_;
};

}  // namespace dfd::host
