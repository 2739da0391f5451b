// Unit tests: Range header parsing/resolution, request-head parsing, response-header helpers.
#include <gtest/gtest.h>

#include <string>

#include "content/data_plane.hpp"
#include "content/http_request.hpp"
#include "content/range_header.hpp"

namespace dfd::host {
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

TEST(RequestHead, ParsesFieldsCaseInsensitively) {
  std::string req =
      "GET /v1/content/abc?x=1 HTTP/1.1\r\nhost: x\r\nAUTHORIZATION: Bearer t0k\r\n"
      "rAnGe:  bytes=0-1 \r\nIf-Range: \"abc\"\r\nConnection: Keep-Alive, Close\r\n\r\nNEXT";
  RequestHead h;
  std::size_t used = 0;
  ASSERT_EQ(parse_request_head(req.data(), req.size(), 8192, &h, &used), HeadParse::kComplete);
  EXPECT_EQ(used, req.size() - 4);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/v1/content/abc?x=1");
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.authorization, "Bearer t0k");
  EXPECT_EQ(h.range, "bytes=0-1");
  EXPECT_EQ(h.if_range, "\"abc\"");
  EXPECT_TRUE(h.connection_close);
  EXPECT_TRUE(h.connection_keep_alive);
  EXPECT_FALSE(h.has_body);
}

TEST(RequestHead, IncompleteBadAndTooLarge) {
  RequestHead h;
  std::size_t used = 0;
  std::string part = "GET / HTTP/1.1\r\nHost: x\r\n";
  EXPECT_EQ(parse_request_head(part.data(), part.size(), 8192, &h, &used), HeadParse::kIncomplete);
  std::string lf = "GET / HTTP/1.0\nHost: x\n\n";
  ASSERT_EQ(parse_request_head(lf.data(), lf.size(), 8192, &h, &used), HeadParse::kComplete);
  EXPECT_EQ(h.version_minor, 0);
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
                          "GET / HTTP/1.1\r\n folded: x\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
                          "GET / HTTP/1.1\r\nName : v\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n"}) {
    EXPECT_EQ(parse_request_head(bad.data(), bad.size(), 8192, &h, &used), HeadParse::kBad) << bad;
  }
  std::string v2 = "GET / HTTP/2.0\r\n\r\n";
  EXPECT_EQ(parse_request_head(v2.data(), v2.size(), 8192, &h, &used), HeadParse::kBadVersion);
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse_request_head(big.data(), 8192, 8192, &h, &used), HeadParse::kTooLarge);
  std::string body = "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
  ASSERT_EQ(parse_request_head(body.data(), body.size(), 8192, &h, &used), HeadParse::kComplete);
  EXPECT_TRUE(h.has_body);
}

TEST(ResponseHeaders, ContentDisposition) {
  EXPECT_EQ(content_disposition_value("videos/movie.mp4"), "attachment; filename=\"movie.mp4\"");
  EXPECT_EQ(content_disposition_value("a \"q\"\\b.bin"),
            "attachment; filename=\"a \\\"q\\\"\\\\b.bin\"");
  EXPECT_EQ(content_disposition_value("d/caf\xc3\xa9 1.txt"),
            "attachment; filename=\"caf__ 1.txt\"; filename*=UTF-8''caf%C3%A9%201.txt");
}

TEST(ResponseHeaders, ReprDigest) {
  // sha256("abc")
  EXPECT_EQ(repr_digest_value("sha256",
                              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:");
  EXPECT_EQ(repr_digest_value("md5", "00"), "");
  EXPECT_EQ(repr_digest_value("sha256", "zz"), "");
}

TEST(ResponseHeaders, PercentDecode) {
  std::string out;
  EXPECT_TRUE(percent_decode("%2e%2E/x", &out));
  EXPECT_EQ(out, "../x");
  EXPECT_FALSE(percent_decode("%2", &out));
  EXPECT_FALSE(percent_decode("%zz", &out));
}

}  // namespace
}  // namespace dfd::host
