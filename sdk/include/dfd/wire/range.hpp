// dfd wire library: HTTP byte ranges (RFC 9110 §14), the one home of every Range and
// Content-Range parser and formatter in dfd (data plane, client, storage-http, test servers).
//
//   Range (request)           RangeHeader::parse + resolve   format_range_request(a, b)
//   Content-Range (response)  parse_content_range            format_content_range(a, b, n)
//                                                            format_unsatisfied_range(n)
//
// Every parser is pure, bounded and total: any input (any bytes, any length) yields a value or
// "invalid" (nullopt), never an exception, never undefined behaviour; numbers that do not fit
// 64 bits are handled explicitly (saturated where RFC 9110 lets a server clamp, refused where the
// value must be exact). Callers pass the field VALUE (no name, no CRLF); surrounding whitespace
// (SP / HTAB, the field's OWS) is ignored.
//
// Thread-safety: values and pure functions; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dfd::wire {

// ---------------------------------------------------------------------------------------------
// Range (what a client asks for)

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

// A parsed Range field value: `bytes=0-99, -5, 100-`.
class RangeHeader {
 public:
  // At most this many specs are parsed; a longer list is treated as invalid (ignored).
  static constexpr std::size_t kMaxSpecs = 1024;

  // Parses a Range field value ("bytes=0-99, -5"). The unit is case-insensitive; whitespace
  // around commas is allowed, empty list elements are skipped (RFC 9110 §5.6.1). nullopt when the
  // value is not a valid bytes range set (other unit, missing digits, last < first, junk, more
  // than kMaxSpecs specs). A last-pos beyond 2^64-1 saturates (means "to the end"). Never throws
  // (an allocation failure is nullopt too).
  static std::optional<RangeHeader> parse(std::string_view value) noexcept;

  enum class Outcome {
    kFull,           // serve 200 with the whole representation (e.g. too many ranges)
    kPartial,        // serve 206 with `ranges` (one → single part, several → multipart)
    kUnsatisfiable,  // serve 416 with Content-Range: format_unsatisfied_range(length)
  };
  struct Resolved {
    Outcome outcome = Outcome::kFull;
    std::vector<ByteRange> ranges;  // sorted, coalesced, non-empty when kPartial
  };

  // Applies a representation `length`: clamps, drops unsatisfiable specs, sorts and coalesces
  // overlapping or adjacent ranges. More than `max_ranges` ranges after coalescing → kFull.
  Resolved resolve(std::uint64_t length, std::size_t max_ranges) const;

  const std::vector<RangeSpec>& specs() const noexcept { return specs_; }

 private:
  std::vector<RangeSpec> specs_;
};

// The Range field value asking for the inclusive bytes [first, last]: "bytes=first-last".
// Precondition: first <= last.
std::string format_range_request(std::uint64_t first, std::uint64_t last);

// ---------------------------------------------------------------------------------------------
// Content-Range (what a server answers)

// A parsed `Content-Range: bytes first-last/complete_length` of a 206 response (one part).
struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;                        // inclusive; first <= last
  std::optional<std::uint64_t> complete_length;  // nullopt for "*" (unknown); else > last

  // True when this is exactly the answer to a request for [first, last] of a representation of
  // `complete_length` bytes ("*" answers any length: the server did not say).
  bool answers(std::uint64_t want_first, std::uint64_t want_last,
               std::uint64_t want_complete_length) const noexcept {
    return first == want_first && last == want_last &&
           (!complete_length || *complete_length == want_complete_length);
  }
};

// Longest Content-Range value parse_content_range looks at; a longer one is invalid.
// ("bytes " + three 20-digit numbers + "-" + "/" is 68 bytes; leading zeros are allowed but not
// without end.)
constexpr std::size_t kMaxContentRangeBytes = 256;

// Parses a Content-Range field value, strictly (RFC 9110 §14.4, range-resp):
//   "bytes" SP first-pos "-" last-pos "/" ( complete-length / "*" )
// The unit is case-insensitive; exactly one SP follows it; numbers are 1*DIGIT and must fit 64
// bits. nullopt for anything else: the unsatisfied form "bytes */N", last < first,
// complete-length <= last, another unit, signs, inner whitespace, trailing junk, overflow, a value
// longer than kMaxContentRangeBytes.
std::optional<ContentRange> parse_content_range(std::string_view value) noexcept;

// "bytes first-last/complete_length" (a 206 response or one part of multipart/byteranges).
// Precondition: first <= last < complete_length.
std::string format_content_range(std::uint64_t first, std::uint64_t last,
                                 std::uint64_t complete_length);
// "bytes */complete_length" (a 416 response).
std::string format_unsatisfied_range(std::uint64_t complete_length);

// The same, appended to `out` (for callers building a header block in one buffer).
void append_content_range(std::string& out, std::uint64_t first, std::uint64_t last,
                          std::uint64_t complete_length);
void append_unsatisfied_range(std::string& out, std::uint64_t complete_length);

}  // namespace dfd::wire
