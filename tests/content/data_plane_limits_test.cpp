// Limits of the data plane (issue 11, "Limits every server needs"): connection caps per address
// and in total (idle connections make room, busy ones are refused with 503), caps on requests
// parked for an unknown token, a header timeout against slowloris, bounded pipelining.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "data_plane_fixture.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

// A connection that has not sent its first request is only evicted after 500 ms (its request
// may be on the way): idle connections in these tests wait longer than that.
constexpr auto kIdleLongEnough = 700ms;

class DataPlaneLimitsTest : public DataPlaneTest {
 protected:
  // A connection from `source` whose request waits (parked) for a token nobody will issue.
  std::unique_ptr<RawClient> parked_client(const char* source) {
    auto c = std::make_unique<RawClient>(plane_->port(), 0, source);
    EXPECT_TRUE(c->connected());
    c->send_all(request(uid_, {bearer("never-issued-" + std::to_string(++tokens_))}));
    return c;
  }
  // Polls the gauge until it reads `want` (the loop applies events asynchronously).
  bool gauge_reaches(const std::string& name, double want) {
    for (int i = 0; i < 200; ++i) {
      if (host_.metric(name) == want) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  // One loop, and unknown tokens wait long enough to stay parked for the whole test.
  static host::DataPlaneOptions parking_options() {
    host::DataPlaneOptions o;
    o.threads = 1;
    o.token_wait_ms = 30000;
    return o;
  }
  // `n` more parked connections from `source`; waits until `total` requests are parked.
  void park_more(std::vector<std::unique_ptr<RawClient>>& into, int n, const char* source,
                 double total) {
    for (int i = 0; i < n; ++i) into.push_back(parked_client(source));
    ASSERT_TRUE(gauge_reaches("dfd_content_parked_requests", total));
  }
  RawResponse ranged_get(const char* source) {
    RawClient c(plane_->port(), 0, source);
    c.send_all(request(uid_, {bearer(token_), "Range: bytes=0-9"}));
    return c.read_response();
  }
  int tokens_ = 0;
};

TEST_F(DataPlaneLimitsTest, PerAddressCapRefusesBusyConnectionsAndEvictsIdleOnes) {
  host::DataPlaneOptions o = parking_options();
  o.max_connections_per_address = 3;
  start(o);
  std::vector<std::unique_ptr<RawClient>> busy;
  park_more(busy, 3, "127.0.0.2", 3);
  // A fourth connection from that address finds nothing idle to replace: 503 at once.
  auto r = ranged_get("127.0.0.2");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_NE(r.body.find("\"code\":\"unavailable\""), std::string::npos);
  EXPECT_EQ(host_.metric("dfd_content_refused_total", {{"reason", "connections_per_address"}}), 1);
  // Another address is not affected.
  r = ranged_get("127.0.0.3");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content_.substr(0, 10));

  // Idle connections (no request yet) of one address make room for its new ones: oldest first.
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawClient>(plane_->port(), 0, "127.0.0.4"));
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(kIdleLongEnough);
  for (int i = 0; i < 4; ++i) {
    r = ranged_get("127.0.0.4");
    EXPECT_EQ(r.status, 206) << i;
  }
  EXPECT_TRUE(idle[0]->closed_by_peer(2000));
  EXPECT_GE(host_.metric("dfd_content_evicted_connections_total"), 1);
}

TEST_F(DataPlaneLimitsTest, TotalCapEvictsTheOldestIdleConnection) {
  host::DataPlaneOptions o = parking_options();
  o.max_connections = 8;
  start(o);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawClient>(plane_->port()));
    std::this_thread::sleep_for(10ms);
  }
  for (int i = 0; i < 50 && plane_->active_connections() < 8; ++i)
    std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(kIdleLongEnough);
  auto r = ranged_get(nullptr);
  EXPECT_EQ(r.status, 206);
  EXPECT_TRUE(idle[0]->closed_by_peer(2000));  // the oldest made room
  EXPECT_EQ(host_.metric("dfd_content_evicted_connections_total"), 1);
  EXPECT_LE(plane_->active_connections(), 8);

  // Eight busy (parked) connections leave no room: the next one gets 503.
  idle.clear();
  std::vector<std::unique_ptr<RawClient>> busy;
  park_more(busy, 8, nullptr, 8);
  r = ranged_get(nullptr);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(host_.metric("dfd_content_refused_total", {{"reason", "connections_total"}}), 1);
}

TEST_F(DataPlaneLimitsTest, ParkedRequestsAreCappedPerAddressAndInTotal) {
  host::DataPlaneOptions o = parking_options();
  o.max_parked = 3;
  o.max_parked_per_address = 2;
  start(o);
  std::vector<std::unique_ptr<RawClient>> parked;
  park_more(parked, 2, "127.0.0.2", 2);
  // A third unknown token from the same address: 503 at once, not a 30 s wait.
  auto third = parked_client("127.0.0.2");
  auto r = third->read_response(false, 5000);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_EQ(host_.metric("dfd_content_refused_total", {{"reason", "parked_per_address"}}), 1);
  park_more(parked, 1, "127.0.0.3", 3);
  auto fourth = parked_client("127.0.0.4");
  EXPECT_EQ(fourth->read_response(false, 5000).status, 503);
  EXPECT_EQ(host_.metric("dfd_content_refused_total", {{"reason", "parked_total"}}), 1);
  // Valid tokens are served meanwhile; a parked request that ends frees its place.
  EXPECT_EQ(ranged_get("127.0.0.2").status, 206);
  parked.front().reset();
  ASSERT_TRUE(gauge_reaches("dfd_content_parked_requests", 2));
  park_more(parked, 1, "127.0.0.2", 3);
}

TEST_F(DataPlaneLimitsTest, HeaderTimeoutClosesSlowHeadsNotIdleKeepAlives) {
  host::DataPlaneOptions o;
  o.threads = 1;
  o.header_timeout_s = 1;
  o.idle_timeout_s = 30;
  start(o);
  RawClient keep(plane_->port());
  keep.send_all(request(uid_, {bearer(token_), "Range: bytes=0-0"}));
  EXPECT_EQ(keep.read_response().status, 206);
  RawClient silent(plane_->port());  // connects and never sends a byte
  RawClient slow(plane_->port());
  slow.send_all("GET /v1/content/" + uid_ + " HTTP/1.1\r\nX-Slow: ");
  bool slow_closed = false;
  for (int i = 0; i < 50 && !slow_closed; ++i) {
    slow_closed = !slow.send_all("a") || slow.closed_by_peer(100);
  }
  EXPECT_TRUE(slow_closed);
  EXPECT_TRUE(silent.closed_by_peer(3000));
  // The keep-alive connection between requests is governed by idle_timeout_s: still usable.
  keep.send_all(request(uid_, {bearer(token_), "Range: bytes=1-1"}));
  auto r = keep.read_response();
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content_.substr(1, 1));
}

TEST_F(DataPlaneLimitsTest, LongPipelinesAreAnsweredInOrderInTurns) {
  host::DataPlaneOptions o;
  o.threads = 1;
  start(o);
  RawClient c(plane_->port());
  std::string all;
  for (int i = 0; i < 300; ++i) {
    all += request(uid_,
                   {bearer(token_), "Range: bytes=" + std::to_string(i) + "-" + std::to_string(i)});
  }
  std::thread writer([&] { c.send_all(all); });
  RawClient other(plane_->port());
  other.send_all(request(uid_, {bearer(token_), "Range: bytes=0-0"}));
  EXPECT_EQ(other.read_response().status, 206);
  for (int i = 0; i < 300; ++i) {
    auto r = c.read_response();
    ASSERT_EQ(r.status, 206) << i;
    ASSERT_EQ(r.body, content_.substr(static_cast<std::size_t>(i), 1)) << i;
  }
  writer.join();
}

// Out of descriptors, pending connections are accepted with the reserve descriptor and closed at
// once (the client sees a close instead of waiting in the backlog), and the loop does not spin.
TEST_F(DataPlaneLimitsTest, OutOfDescriptorsPendingConnectionsAreClosedNotLeftHanging) {
  host::DataPlaneOptions o;
  o.threads = 1;
  start(o);  // the connection cap is computed from the normal limit: far above what follows
  std::vector<int> socks(60);
  for (int& s : socks) s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  rlimit normal{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &normal), 0);
  rlimit low = normal;
  low.rlim_cur = static_cast<rlim_t>(count_fds() + 20);  // room for about 20 accepted sockets
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(plane_->port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int s : socks) ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  // Within 3 s, count the connections the server closed (the accepted ones stay open, idle).
  std::vector<bool> closed(socks.size(), false);
  int n_closed = 0;
  auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until && n_closed < 30) {
    for (std::size_t i = 0; i < socks.size(); ++i) {
      if (closed[i]) continue;
      pollfd p{socks[i], POLLIN, 0};
      char c;
      if (::poll(&p, 1, 0) == 1 && ::recv(socks[i], &c, 1, MSG_DONTWAIT) <= 0) {
        closed[i] = true;
        ++n_closed;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  double c0 = cpu_seconds();
  std::this_thread::sleep_for(500ms);
  double used = cpu_seconds() - c0;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &normal), 0);
  EXPECT_GE(n_closed, 30) << "pending connections should be closed, not left in the backlog";
  EXPECT_GE(host_.metric("dfd_content_refused_total", {{"reason", "descriptors"}}), n_closed);
  EXPECT_LT(used, 0.2) << "CPU seconds in 0.5 s while out of descriptors";
  for (int s : socks) ::close(s);
  EXPECT_EQ(ranged_get(nullptr).status, 206);
}

}  // namespace
}  // namespace dfd::test
