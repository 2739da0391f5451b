// The control plane's input limits as pure pieces: RequestFramer (request boundaries, head and
// body limits, Content-Length checks) and ConnectionLimiter (total and per-address caps).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connection_limiter.hpp"
#include "request_framer.hpp"

namespace dfd::host {
namespace {

struct Fed {
  std::vector<std::string> requests;  // the bytes of each completed request, in order
  std::string pending;                // bytes of the current, incomplete request
  FramerRefusal refusal;
};

// Feeds `wire` in pieces of `step` bytes, as a connection would.
Fed feed(RequestFramer& f, const std::string& wire, std::size_t step = 7) {
  Fed out;
  for (std::size_t at = 0; at < wire.size() && out.refusal.status == 0;) {
    std::size_t len = std::min(step, wire.size() - at);
    while (len > 0) {
      bool done = false;
      std::size_t n = f.take(wire.data() + at, len, &done, &out.refusal);
      if (out.refusal.status != 0) break;
      out.pending.append(wire, at, n);
      at += n;
      len -= n;
      if (done) {
        out.requests.push_back(out.pending);
        out.pending.clear();
      }
    }
  }
  return out;
}

TEST(RequestFramer, SplitsPipelinedRequestsAtTheirBodies) {
  RequestFramer f({1024, 100});
  std::string a = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  std::string b = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string c = "POST /c HTTP/1.1\r\ncontent-length:  3 \r\n\r\nxyz";
  for (std::size_t step : {1, 7, 4096}) {
    Fed r = feed(f, a + b + c, step);
    ASSERT_EQ(r.refusal.status, 0) << r.refusal.message;
    ASSERT_EQ(r.requests.size(), 3u) << step;
    EXPECT_EQ(r.requests[0], a);
    EXPECT_EQ(r.requests[1], b);
    EXPECT_EQ(r.requests[2], c);
    EXPECT_TRUE(f.at_request_start());
  }
}

TEST(RequestFramer, RefusesABodyOverTheLimitBeforeReadingIt) {
  RequestFramer f({1024, 100});
  Fed r = feed(f, "POST /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'Z'));
  EXPECT_EQ(r.refusal.status, 413);
  EXPECT_EQ(r.refusal.code, "body_too_large");
  EXPECT_EQ(r.pending.find('Z'), std::string::npos);  // no body byte was passed on
  // Every later call refuses again.
  bool done = false;
  FramerRefusal again;
  EXPECT_EQ(f.take("GET", 3, &done, &again), 0u);
  EXPECT_EQ(again.status, 413);
}

TEST(RequestFramer, AbsurdContentLengthsAre413And400NotAnAllocation) {
  for (std::string cl : {"1000000000000", "99999999999999999999999999"}) {
    RequestFramer f({1024, 65536});
    EXPECT_EQ(feed(f, "POST / HTTP/1.1\r\nContent-Length: " + cl + "\r\n\r\n").refusal.status, 413)
        << cl;
  }
  for (std::string cl : {"1e12", "-1", "", "5, 5", "0x10"}) {
    RequestFramer f({1024, 65536});
    Fed r = feed(f, "POST / HTTP/1.1\r\nContent-Length: " + cl + "\r\n\r\n");
    EXPECT_EQ(r.refusal.status, 400) << cl;
    EXPECT_EQ(r.refusal.code, "bad_request");
  }
  RequestFramer f({1024, 65536});
  EXPECT_EQ(
      feed(f, "POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n").refusal.status,
      400);
}

TEST(RequestFramer, RefusesChunkedUploadsAndLongHeads) {
  RequestFramer f({1024, 65536});
  Fed r = feed(f, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.refusal.status, 411);
  RequestFramer g({1024, 65536});
  r = feed(g, "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.refusal.status, 431);
  EXPECT_LE(r.pending.size(), 1024u);
  // Exactly at the limit is fine.
  std::string head = "GET / HTTP/1.1\r\nX: ";
  head += std::string(1024 - head.size() - 4, 'a') + "\r\n\r\n";
  RequestFramer h({1024, 65536});
  r = feed(h, head);
  EXPECT_EQ(r.refusal.status, 0);
  EXPECT_EQ(r.requests.size(), 1u);
}

TEST(ConnectionLimiter, CapsPerAddressAndInTotalAndReleasesWithTheSlot) {
  auto lim = std::make_shared<ConnectionLimiter>(ConnectionCaps{3, 2});
  ConnectionLimiter::Refusal why;
  auto a1 = lim->admit("10.0.0.1", &why);
  auto a2 = lim->admit("10.0.0.1", &why);
  ASSERT_TRUE(a1 && a2);
  EXPECT_EQ(lim->admit("10.0.0.1", &why), nullptr);
  EXPECT_EQ(why, ConnectionLimiter::Refusal::kPerAddress);
  auto b1 = lim->admit("10.0.0.2", &why);
  ASSERT_TRUE(b1);
  EXPECT_EQ(lim->admit("10.0.0.3", &why), nullptr);
  EXPECT_EQ(why, ConnectionLimiter::Refusal::kTotal);
  EXPECT_EQ(lim->open(), 3u);
  a1.reset();
  EXPECT_EQ(lim->open(), 2u);
  EXPECT_TRUE(lim->admit("10.0.0.1", &why));  // a temporary: released at once
  EXPECT_EQ(lim->open(), 2u);
}

}  // namespace
}  // namespace dfd::host
