// Unit tests of dfd/wire/range.hpp: the Range parser and resolver (the data plane's, moved here
// from tests/content), Content-Range parse and format, the Range request formatter.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "dfd/wire/range.hpp"

namespace dfd::wire {
namespace {

using Outcome = RangeHeader::Outcome;

RangeHeader::Resolved resolve(const char* v, std::uint64_t len, std::size_t max = 16) {
  auto h = RangeHeader::parse(v);
  EXPECT_TRUE(h.has_value()) << v;
  if (!h) return {};
  return h->resolve(len, max);
}

TEST(RangeHeader, SingleForms) {
  auto r = resolve("bytes=0-0", 100);
  ASSERT_EQ(r.outcome, Outcome::kPartial);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 0}}));
  r = resolve("bytes=-1", 100);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{99, 99}}));
  r = resolve("bytes=40-", 100);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{40, 99}}));
  r = resolve("bytes=10-19", 100);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{10, 19}}));
  r = resolve("bytes=90-1000", 100);  // last-pos clamped
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{90, 99}}));
  r = resolve("bytes=-500", 100);  // suffix longer than the file = the whole file
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 99}}));
  r = resolve("BYTES=5-5", 100);  // unit is case-insensitive
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{5, 5}}));
}

TEST(RangeHeader, Unsatisfiable) {
  EXPECT_EQ(resolve("bytes=100-", 100).outcome, Outcome::kUnsatisfiable);
  EXPECT_EQ(resolve("bytes=100-200", 100).outcome, Outcome::kUnsatisfiable);
  EXPECT_EQ(resolve("bytes=-0", 100).outcome, Outcome::kUnsatisfiable);
  EXPECT_EQ(resolve("bytes=0-0", 0).outcome, Outcome::kUnsatisfiable);
  EXPECT_EQ(resolve("bytes=-5", 0).outcome, Outcome::kUnsatisfiable);
  // One satisfiable spec is enough.
  auto r = resolve("bytes=200-300, 5-6", 100);
  EXPECT_EQ(r.outcome, Outcome::kPartial);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{5, 6}}));
}

TEST(RangeHeader, InvalidSyntaxIsIgnored) {
  for (const char* v : {"", "bytes", "bytes=", "bytes=,", "bytes=a-b", "bytes=5-1", "bytes=1-2-3",
                        "items=0-1", "bytes=--1", "bytes=0-1;x", "bytes 0-1", "bytes=1 -2",
                        "bytes=0x10-20", "bytes=-", "bytes=+1-2"}) {
    EXPECT_FALSE(RangeHeader::parse(v).has_value()) << "'" << v << "'";
  }
}

TEST(RangeHeader, WhitespaceAndEmptyElements) {
  auto r = resolve("bytes= 0-1 ,\t4-5 , ,", 100);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 1}, {4, 5}}));
  r = resolve("  bytes=,,0-1  ", 100);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 1}}));
}

TEST(RangeHeader, CoalescesOverlappingAndAdjacent) {
  auto r = resolve("bytes=50-59,0-9,10-19,5-12,-10", 100);
  ASSERT_EQ(r.outcome, Outcome::kPartial);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 19}, {50, 59}, {90, 99}}));
  r = resolve("bytes=0-0,0-0,0-0", 100);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 0}}));
  r = resolve("bytes=0-49,50-", 100);  // adjacent → one range
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 99}}));
}

TEST(RangeHeader, TooManyRangesServeFull) {
  std::string v = "bytes=";
  for (int i = 0; i < 20; ++i) v += std::to_string(i * 10) + "-" + std::to_string(i * 10) + ",";
  auto h = RangeHeader::parse(v);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->resolve(1000, 16).outcome, Outcome::kFull);
  EXPECT_EQ(h->resolve(1000, 20).outcome, Outcome::kPartial);
  EXPECT_EQ(h->resolve(1000, 20).ranges.size(), 20u);
  // Thousands of specs: bounded, treated as invalid.
  std::string many = "bytes=";
  for (int i = 0; i < 2000; ++i) many += "0-0,";
  EXPECT_FALSE(RangeHeader::parse(many).has_value());
}

TEST(RangeHeader, OverflowSaturates) {
  // last-pos beyond 2^64 means "to the end".
  auto r = resolve("bytes=10-99999999999999999999999999", 100);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{10, 99}}));
  // first-pos beyond 2^64 is past any end.
  EXPECT_EQ(resolve("bytes=99999999999999999999999999-", 100).outcome, Outcome::kUnsatisfiable);
  EXPECT_EQ(resolve("bytes=99999999999999999999-999999999999999999999", 100).outcome,
            Outcome::kUnsatisfiable);
  // A huge suffix is the whole file.
  r = resolve("bytes=-99999999999999999999999", 100);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 99}}));
  // 18446744073709551615 = 2^64-1 exactly.
  r = resolve("bytes=18446744073709551614-18446744073709551615", 18446744073709551615ull);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{18446744073709551614ull, 18446744073709551614ull}}));
}

TEST(RangeHeader, LargeOffsets) {
  std::uint64_t five_gib = 5ull << 30;
  auto r = resolve("bytes=5368709100-", five_gib);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{5368709100ull, five_gib - 1}}));
}

TEST(ContentRangeParse, Valid) {
  auto r = parse_content_range("bytes 0-1023/4096");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->last, 1023u);
  EXPECT_EQ(r->complete_length, 4096u);
  r = parse_content_range(" \tBytes 5-5/*\t ");  // OWS around the value; unit case-insensitive
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 5u);
  EXPECT_EQ(r->last, 5u);
  EXPECT_FALSE(r->complete_length);
  r = parse_content_range("bytes 4194304-8388607/1073741824");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 4194304u);
  EXPECT_EQ(r->last, 8388607u);
  r = parse_content_range("bytes 18446744073709551613-18446744073709551614/18446744073709551615");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->last, 18446744073709551614ull);
  EXPECT_EQ(r->complete_length, 18446744073709551615ull);
  r = parse_content_range("bytes 007-0010/0100");  // 1*DIGIT allows leading zeros
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 7u);
  EXPECT_EQ(r->last, 10u);
  EXPECT_EQ(r->complete_length, 100u);
}

TEST(ContentRangeParse, InvalidIsRefused) {
  for (const char* s : {"",
                        "bytes",
                        "bytes ",
                        "bytes */100",
                        "bytes 5-4/100",
                        "bytes 0-100/100",
                        "bytes 0-1/0",
                        "bytes=0-1/2",
                        "items 0-1/2",
                        "bytes 0-1/2x",
                        "bytes -1/2",
                        "bytes 0-/2",
                        "bytes 0-1/",
                        "bytes 0-1",
                        "bytes 0-99999999999999999999/1",
                        "bytes 0-1/18446744073709551616",
                        "bytes0-1/2",
                        "bytes  0-1/2",
                        "bytes\t0-1/2",
                        "bytes 0 -1/2",
                        "bytes 0- 1/2",
                        "bytes 0-1 /2",
                        "bytes +0-1/2",
                        "bytes 0x1-2/3",
                        "bytes 0-1/2, 3-4/5",
                        "bytes 0-1/**",
                        "bytes 0-1/2\r\n",
                        "byte 0-1/2",
                        "bytesx0-1/2"}) {
    EXPECT_FALSE(parse_content_range(s)) << "'" << s << "'";
  }
  // Bounded: a value longer than kMaxContentRangeBytes is refused even when it is well formed.
  std::string zeros(kMaxContentRangeBytes, '0');
  EXPECT_FALSE(parse_content_range("bytes " + zeros + "1-2/3"));
  EXPECT_TRUE(parse_content_range("bytes " + zeros.substr(0, 200) + "1-2/3"));
}

TEST(ContentRange, Answers) {
  auto r = parse_content_range("bytes 10-19/100");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->answers(10, 19, 100));
  EXPECT_FALSE(r->answers(10, 19, 101));
  EXPECT_FALSE(r->answers(11, 19, 100));
  EXPECT_FALSE(r->answers(10, 18, 100));
  auto star = parse_content_range("bytes 10-19/*");
  ASSERT_TRUE(star);
  EXPECT_TRUE(star->answers(10, 19, 12345));  // the server did not say the length
}

TEST(ContentRangeFormat, FormsAndRoundTrip) {
  EXPECT_EQ(format_content_range(0, 0, 1), "bytes 0-0/1");
  EXPECT_EQ(format_content_range(1000, 300999, 1048576), "bytes 1000-300999/1048576");
  EXPECT_EQ(format_unsatisfied_range(0), "bytes */0");
  EXPECT_EQ(format_unsatisfied_range(18446744073709551615ull), "bytes */18446744073709551615");
  std::string h = "Content-Range: ";
  append_content_range(h, 5, 9, 10);
  EXPECT_EQ(h, "Content-Range: bytes 5-9/10");
  for (auto [a, b, n] :
       {std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>{0, 0, 1},
        {4194304, 8388607, 1073741824},
        {18446744073709551613ull, 18446744073709551614ull, 18446744073709551615ull}}) {
    auto r = parse_content_range(format_content_range(a, b, n));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->answers(a, b, n));
    EXPECT_EQ(r->complete_length, n);
  }
  // The unsatisfied form is for 416 answers; it is not a range of a 206.
  EXPECT_FALSE(parse_content_range(format_unsatisfied_range(100)));
}

TEST(RangeRequest, FormatParsesBackToTheSameRange) {
  EXPECT_EQ(format_range_request(0, 99), "bytes=0-99");
  EXPECT_EQ(format_range_request(5368709100ull, 5368709199ull), "bytes=5368709100-5368709199");
  auto h = RangeHeader::parse(format_range_request(10, 19));
  ASSERT_TRUE(h);
  auto r = h->resolve(100, 1);
  ASSERT_EQ(r.outcome, RangeHeader::Outcome::kPartial);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{10, 19}}));
}

}  // namespace
}  // namespace dfd::wire
