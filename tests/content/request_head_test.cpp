// Unit tests: request-head parsing, response-header helpers (Range parsing:
// tests/sdk/wire_range_test.cpp).
#include <gtest/gtest.h>

#include <string>

#include "content/data_plane.hpp"
#include "content/http_request.hpp"

namespace dfd::host {
namespace {

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
