// Several info servers (issue 16): the failover policy (which reply moves a call to the next
// server, the rounds and waits, the message naming every server), the server lists of --server /
// DFD_SERVER, and InfoApi moving between real HTTP servers on 127.0.0.1 (tests/client/
// test_file_server.*): one whose port is closed, one answering 503, one answering.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "api_client.hpp"
#include "failover.hpp"
#include "harness.hpp"
#include "server_list.hpp"
#include "test_file_server.hpp"

using namespace dfd::client;
using namespace std::chrono_literals;

TEST(ReplyClass, FiveHundredsAndTransportFailuresMoveOnFourHundredsAreTheAnswer) {
  EXPECT_EQ(classify_reply(CURLE_OK, 200), ReplyClass::kAnswer);
  EXPECT_EQ(classify_reply(CURLE_OK, 401), ReplyClass::kAnswer);
  EXPECT_EQ(classify_reply(CURLE_OK, 404), ReplyClass::kAnswer);
  EXPECT_EQ(classify_reply(CURLE_OK, 429), ReplyClass::kAnswer);
  EXPECT_EQ(classify_reply(CURLE_OK, 500), ReplyClass::kUnavailable);
  EXPECT_EQ(classify_reply(CURLE_OK, 502), ReplyClass::kUnavailable);
  EXPECT_EQ(classify_reply(CURLE_OK, 503), ReplyClass::kUnavailable);
  for (CURLcode rc : {CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT,
                      CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
                      CURLE_SSL_CONNECT_ERROR})
    EXPECT_EQ(classify_reply(rc, 0), ReplyClass::kUnavailable) << curl_easy_strerror(rc);
  for (CURLcode rc :
       {CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM})
    EXPECT_EQ(classify_reply(rc, 0), ReplyClass::kFatal) << curl_easy_strerror(rc);
}

TEST(FailoverPolicy, MovesOnAtOnceWithinARoundAndWaitsBetweenRounds) {
  Failover f({"http://a", "http://b", "http://c"}, {3, 100ms, 150ms});
  f.begin();
  EXPECT_EQ(f.current(), "http://a");
  auto s = f.unavailable("refused");
  EXPECT_FALSE(s.give_up);
  EXPECT_EQ(s.wait, 0ms);
  EXPECT_EQ(f.current(), "http://b");
  s = f.unavailable("HTTP 503");
  EXPECT_EQ(s.wait, 0ms);
  s = f.unavailable("timeout");  // the whole list failed: round 1 over
  EXPECT_FALSE(s.give_up);
  EXPECT_EQ(s.wait, 100ms);
  EXPECT_EQ(f.current(), "http://a");
  for (int i = 0; i < 2; ++i) EXPECT_EQ(f.unavailable("x").wait, 0ms);
  s = f.unavailable("x");  // round 2 over: the wait doubles, capped
  EXPECT_FALSE(s.give_up);
  EXPECT_EQ(s.wait, 150ms);
  f.unavailable("refused again");
  f.unavailable("y");
  s = f.unavailable("z");  // round 3 over: give up
  EXPECT_TRUE(s.give_up);
  EXPECT_EQ(f.rounds_done(), 3);
  EXPECT_EQ(f.tried(), "http://a (refused again), http://b (y), http://c (z)");
}

TEST(FailoverPolicy, AServerThatAnsweredStaysFirstForTheNextCall) {
  Failover f({"http://a", "http://b"}, {2, 1ms, 1ms});
  f.begin();
  f.unavailable("refused");
  f.answered();
  EXPECT_EQ(f.current(), "http://b");
  f.begin();  // the next call starts at b, and its message names only what it asked
  EXPECT_EQ(f.current(), "http://b");
  f.unavailable("HTTP 503: busy");
  EXPECT_EQ(f.current(), "http://a");
  EXPECT_EQ(f.tried(), "http://b (HTTP 503: busy)");
}

TEST(FailoverPolicy, OneServerIsRetriedRoundByRound) {
  Failover f({"http://a"}, {3, 5ms, 1000ms});
  f.begin();
  EXPECT_EQ(f.unavailable("r").wait, 5ms);
  EXPECT_EQ(f.unavailable("r").wait, 10ms);
  EXPECT_TRUE(f.unavailable("r").give_up);
  EXPECT_THROW(Failover({}), std::invalid_argument);
}

// --timeout (issue 13): a server that did not answer in time is not asked again by the same call;
// the others still get their rounds, and when every server timed out the call gives up at once.
TEST(FailoverPolicy, AServerThatTimedOutIsNotAskedAgainByTheSameCall) {
  Failover f({"http://a", "http://b", "http://c"}, {3, 100ms, 150ms});
  f.begin();
  auto s = f.unavailable("no answer within 2 s", true);
  EXPECT_FALSE(s.give_up);
  EXPECT_EQ(f.current(), "http://b");
  EXPECT_EQ(f.unavailable("refused").wait, 0ms);
  s = f.unavailable("refused");  // round 1 over (a, b, c)
  EXPECT_FALSE(s.give_up);
  EXPECT_EQ(s.wait, 100ms);
  EXPECT_EQ(f.current(), "http://b");  // a is skipped from now on
  EXPECT_EQ(f.unavailable("refused").wait, 0ms);
  EXPECT_EQ(f.current(), "http://c");
  s = f.unavailable("no answer within 2 s", true);  // round 2 over (b, c): only b is left
  EXPECT_FALSE(s.give_up);
  EXPECT_EQ(f.current(), "http://b");
  s = f.unavailable("refused");  // round 3 over
  EXPECT_TRUE(s.give_up);
  EXPECT_EQ(f.tried(),
            "http://a (no answer within 2 s), http://b (refused), http://c (no answer within 2 s)");
  f.begin();  // the next call asks everyone again
  EXPECT_EQ(f.current(), "http://b");
  f.unavailable("refused");
  EXPECT_EQ(f.current(), "http://c");
  f.unavailable("refused");
  EXPECT_EQ(f.current(), "http://a");
}

TEST(FailoverPolicy, WhenEveryServerTimedOutTheCallGivesUpWithoutWaiting) {
  Failover one({"http://a"}, {3, 100ms, 150ms});
  one.begin();
  auto s = one.unavailable("no answer within 2 s", true);
  EXPECT_TRUE(s.give_up);
  EXPECT_EQ(one.rounds_done(), 1);
  Failover two({"http://a", "http://b"}, {3, 100ms, 150ms});
  two.begin();
  EXPECT_FALSE(two.unavailable("t", true).give_up);
  EXPECT_EQ(two.current(), "http://b");
  EXPECT_TRUE(two.unavailable("t", true).give_up);
}

TEST(ServerList, ParsesNormalizesAndDeduplicates) {
  EXPECT_EQ(parse_server_list("http://a:1/"), std::vector<std::string>{"http://a:1"});
  EXPECT_EQ(parse_server_list(" https://a:1 , http://b:2/,https://a:1"),
            (std::vector<std::string>{"https://a:1", "http://b:2"}));
  EXPECT_EQ(join_server_list({"https://a:1", "http://b:2"}), "https://a:1,http://b:2");
  for (const char* bad : {"", ",", "http://a,,http://b", "http://a,", "ftp://a", "http://a,b"}) {
    try {
      parse_server_list(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const CliError& e) {
      EXPECT_EQ(e.exit_code, exit_code::kUsage) << bad;
    }
  }
  EXPECT_EQ(servers_outside({"http://a", "http://c", "http://b"}, {"http://b", "http://a"}),
            std::vector<std::string>{"http://c"});
  EXPECT_TRUE(servers_outside({"http://b"}, {"http://a", "http://b"}).empty());
}

namespace {
// Two info servers of the test kind with the same user (the user token is the same on both,
// as on servers sharing one database) and the URL of a closed port.
struct TwoInfo {
  dfd::test::TestServer one{"info-1"}, two{"info-2"};
  std::string closed = "http://127.0.0.1:" + std::to_string(dfd::test::free_port());
  TwoInfo() {
    dfd::test::TestFile f;
    f.id = 3;
    f.name = "a.bin";
    f.data = dfd::test::random_bytes(1000, 1);
    f.uid = dfd::test::digest_hex("sha256", f.data->data(), f.data->size());
    for (auto* s : {&one, &two}) s->serve_info("ann@example.org", "pw", {f}, {}, {"dl-1"});
  }
};
const Failover::Options kFast{2, 10ms, 20ms, 10000ms};

// A TCP listener on 127.0.0.1 that answers every connection with a line of plain text and closes
// it: a TLS client's handshake breaks at once ("wrong version number").
class NotTls {
 public:
  NotTls() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    url_ = "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) break;
        const char text[] = "this is not TLS\r\n";
        (void)!::write(c, text, sizeof text - 1);
        ::close(c);
      }
    });
  }
  ~NotTls() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  const std::string& url() const { return url_; }

 private:
  int fd_ = -1;
  std::string url_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};
}  // namespace

TEST(InfoApiFailover, AClosedPortMovesToTheNextServer) {
  TwoInfo t;
  InfoApi api({t.closed, t.one.url()}, "", kFast);
  EXPECT_EQ(api.login("ann@example.org", "pw").token, "user-token-1");
  EXPECT_EQ(api.server(), t.one.url());
  EXPECT_EQ(t.one.info_requests.load(), 1u);
}

TEST(InfoApiFailover, A503MovesToTheNextServerAndTheAnswerStaysThere) {
  TwoInfo t;
  t.one.faults.info_status = 503;
  InfoApi api({t.one.url(), t.two.url()}, "user-token-1", kFast);
  EXPECT_EQ(api.list().size(), 1u);
  EXPECT_EQ(api.manifest("3", "").download_token, "dl-1");
  // The first call asked info-1 once; the manifest went straight to info-2.
  EXPECT_EQ(t.one.info_requests.load(), 1u);
  EXPECT_EQ(t.two.info_requests.load(), 2u);
}

TEST(InfoApiFailover, AServerThatDoesNotAnswerInTimeMovesOn) {
  TwoInfo t;
  t.one.faults.stall_info = true;  // accepts, reads the request, never answers
  InfoApi api({t.one.url(), t.two.url()}, "user-token-1", {2, 10ms, 20ms, 300ms});
  EXPECT_EQ(api.list().size(), 1u);
  EXPECT_EQ(api.server(), t.two.url());
  t.one.release_stall();
}

// A TLS handshake that breaks (here: a server that answers plain text) moves on
// like a refused connection; when every failure was one, the exit code is the TLS one.
TEST(InfoApiFailover, ABrokenTlsHandshakeMovesOn) {
  TwoInfo t;
  NotTls not_tls;
  const std::string& tls_to_plain = not_tls.url();
  InfoApi api({tls_to_plain, t.two.url()}, "user-token-1", kFast);
  EXPECT_EQ(api.list().size(), 1u);
  EXPECT_EQ(api.server(), t.two.url());
  InfoApi only({tls_to_plain}, "user-token-1", kFast);
  try {
    only.list();
    ADD_FAILURE() << "list succeeded";
  } catch (const InfoUnavailable& e) {
    EXPECT_EQ(e.exit_code, exit_code::kTls) << e.what();
    EXPECT_NE(std::string(e.what()).find(tls_to_plain + " (TLS handshake failed: "),
              std::string::npos)
        << e.what();
  }
}

TEST(InfoApiFailover, AFourHundredIsTheAnswerAndNoOtherServerIsAsked) {
  TwoInfo t;
  InfoApi api({t.one.url(), t.two.url()}, "", kFast);
  try {
    api.login("ann@example.org", "wrong");
    ADD_FAILURE() << "login with a wrong password succeeded";
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code, exit_code::kAuth) << e.what();
    EXPECT_STREQ(e.what(), "login failed: invalid email or password");
  }
  InfoApi user({t.one.url(), t.two.url()}, "user-token-1", kFast);
  EXPECT_THROW(user.manifest("99", ""), CliError);  // 404
  EXPECT_EQ(t.one.info_requests.load(), 2u);
  EXPECT_EQ(t.two.info_requests.load(), 0u);
}

TEST(InfoApiFailover, WhenEveryServerFailsTheErrorNamesEachOne) {
  TwoInfo t;
  t.one.faults.info_status = 503;
  t.two.faults.info_status = 502;
  InfoApi api({t.closed, t.one.url(), t.two.url()}, "user-token-1", kFast);
  try {
    api.list();
    ADD_FAILURE() << "list succeeded";
  } catch (const InfoUnavailable& e) {
    std::string m = e.what();
    EXPECT_EQ(e.exit_code, exit_code::kServer);
    EXPECT_NE(m.find("cannot list files: no info server answered (2 rounds): " + t.closed + " ("),
              std::string::npos)
        << m;
    EXPECT_NE(m.find(t.one.url() + " (HTTP 503: info fault 503)"), std::string::npos) << m;
    EXPECT_NE(m.find(t.two.url() + " (HTTP 502: info fault 502)"), std::string::npos) << m;
  }
  EXPECT_EQ(t.one.info_requests.load(), 2u);  // once per round
  EXPECT_EQ(t.two.info_requests.load(), 2u);
  // The servers come back: the same InfoApi answers again.
  t.two.faults.info_status = 0;
  EXPECT_EQ(api.list().size(), 1u);
}

TEST(InfoApiFailover, TheBackOffRespectsTheDeadline) {
  TwoInfo t;
  InfoApi api({t.closed}, "user-token-1", {3, 10s, 10s});
  api.set_deadline(std::chrono::steady_clock::now() + 2s, 2);
  try {
    api.list();
    ADD_FAILURE() << "list succeeded";
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code, exit_code::kDeadline) << e.what();
  }
}
