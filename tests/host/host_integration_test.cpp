// dfd-host as a real process on loopback: /healthz, /metrics, plugin routes through the Pistache
// adapter, error bodies, log lines, start failures, and signals (SIGTERM with a request in flight
// completes that request and exits 0; SIGHUP keeps running).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "dfd/plugin.hpp"
#include "harness.hpp"
#include "host_process.hpp"

namespace {
using dfd::test::Host;
using dfd::test::kTestPluginDir;
using dfd::test::wait_for_log;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(HostIntegration, HealthzListsEveryPlugin) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto r = dfd::test::http("GET", h.url("/healthz"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.headers["content-type"], HasSubstr("application/json"));
  json j = json::parse(r.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["server"]["id"], "it-host");
  EXPECT_EQ(j["server"]["zone"], "zone-t");
  ASSERT_EQ(j["plugins"].size(), 2u);
  EXPECT_EQ(j["plugins"][0]["name"], "test-info");
  EXPECT_EQ(j["plugins"][0]["kind"], "info");
  EXPECT_EQ(j["plugins"][0]["version"], "0.0.1");
  EXPECT_EQ(j["plugins"][0]["healthy"], true);
  EXPECT_EQ(j["plugins"][0]["detail"], "fine");
  EXPECT_EQ(j["plugins"][1]["name"], "digest-openssl");
  EXPECT_EQ(j["plugins"][1]["kind"], "digest");
  EXPECT_EQ(j["plugins"][1]["version"], "1.0.0");
  // Issue 15: the plugin ABI each was built for.
  const std::string abi = std::to_string(dfd::kAbiMajor) + "." + std::to_string(dfd::kAbiMinor);
  EXPECT_EQ(j["plugins"][1]["abi"], abi);
}

TEST(HostIntegration, UnhealthyPluginMakesHealthz503) {
  Host h("healthy = false\ndetail = \"broken on purpose\"");
  ASSERT_TRUE(dfd::test::wait_http(h.url("/healthz"), 503, 20s)) << h.proc().log();
  auto r = dfd::test::http("GET", h.url("/healthz"));
  ASSERT_EQ(r.status, 503);
  json j = json::parse(r.body);
  EXPECT_EQ(j["status"], "unhealthy");
  EXPECT_EQ(j["plugins"][0]["healthy"], false);
  EXPECT_EQ(j["plugins"][0]["detail"], "broken on purpose");
}

TEST(HostIntegration, MetricsCountRequestsByRouteAndStatusPlusPluginMetrics) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  ASSERT_EQ(dfd::test::http("GET", h.url("/healthz")).status, 200);
  ASSERT_EQ(dfd::test::http("GET", h.url("/test/slow?ms=1")).status, 200);
  ASSERT_EQ(dfd::test::http("GET", h.url("/test/echo/9")).status, 200);
  ASSERT_EQ(dfd::test::http("GET", h.url("/missing")).status, 404);
  auto r = dfd::test::http("GET", h.url("/metrics"));
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.headers["content-type"], HasSubstr("text/plain"));
  EXPECT_THAT(r.body, HasSubstr("# TYPE dfd_http_requests_total counter"));
  EXPECT_THAT(
      r.body,
      HasSubstr("dfd_http_requests_total{method=\"GET\",route=\"/test/slow\",status=\"200\"} 1"));
  EXPECT_THAT(r.body, HasSubstr("dfd_http_requests_total{method=\"GET\",route=\"/test/echo/:id\","
                                "status=\"200\"} 1"));
  EXPECT_THAT(r.body, HasSubstr("dfd_http_requests_total{method=\"GET\",route=\"unmatched\","
                                "status=\"404\"} 1"));
  EXPECT_THAT(r.body, HasSubstr("dfd_http_response_bytes_total{route=\"/test/slow\"} 14"));
  EXPECT_THAT(r.body, HasSubstr("dfd_http_request_duration_seconds_count{route=\"/healthz\"}"));
  EXPECT_THAT(r.body, HasSubstr("dfd_test_info_slow_total 1"));
  EXPECT_THAT(r.body, HasSubstr("dfd_plugins_loaded 2"));
}

TEST(HostIntegration, PluginRoutesSeeParamsQueryHeadersBodyAndPeer) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto r = dfd::test::http(
      "POST", h.url("/test/echo/42?x=a%20b&y=2&status=201"),
      {"Authorization: Bearer tok123", "X-Custom: Value", "Content-Type: application/json"},
      "{\"k\":1}");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers["x-test-reply"], "yes");
  EXPECT_EQ(r.headers["retry-after"], "7");
  json j = json::parse(r.body);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["path"], "/test/echo/42");
  EXPECT_EQ(j["params"]["id"], "42");
  EXPECT_EQ(j["query"]["x"], "a b");
  EXPECT_EQ(j["query"]["y"], "2");
  EXPECT_EQ(j["headers"]["x-custom"], "Value");
  EXPECT_EQ(j["headers"]["authorization"], "Bearer tok123");
  EXPECT_EQ(j["bearer"], "tok123");
  EXPECT_EQ(j["body"], "{\"k\":1}");
  EXPECT_EQ(j["peer"], "127.0.0.1");
}

TEST(HostIntegration, ErrorsAreJson) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto r = dfd::test::http("GET", h.url("/no/such/route"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "not_found");
  r = dfd::test::http("DELETE", h.url("/healthz"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "method_not_allowed");
  EXPECT_EQ(r.headers["allow"], "GET");
  r = dfd::test::http("GET", h.url("/test/throw"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "internal");
  EXPECT_THAT(h.proc().log(), HasSubstr("handler failure"));
  // The host keeps serving after a handler threw.
  EXPECT_EQ(dfd::test::http("GET", h.url("/healthz")).status, 200);
}

TEST(HostIntegration, LogLinesNameThePluginAndStartFollowsDependencies) {
  Host h("", "", {"--log-level", "debug"});
  ASSERT_TRUE(h.ready()) << h.proc().log();
  std::string log = h.proc().log();
  EXPECT_THAT(log, HasSubstr("[test-info] test-info started on server it-host"));
  EXPECT_THAT(log, HasSubstr("[dfd-host] dfd-host"));
  // test-info is listed first but requires a digest plugin: digest-openssl starts first.
  auto d = log.find("starting digest-openssl");
  auto t = log.find("starting test-info");
  ASSERT_NE(d, std::string::npos) << log;
  ASSERT_NE(t, std::string::npos) << log;
  EXPECT_LT(d, t);
}

TEST(HostIntegration, SigtermWithRequestInFlightCompletesItAndExitsZero) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto slow = std::async(std::launch::async,
                         [&] { return dfd::test::http("GET", h.url("/test/slow?ms=1500")); });
  ASSERT_TRUE(wait_for_log(h.proc(), "slow request started")) << h.proc().log();
  auto t0 = std::chrono::steady_clock::now();
  h.proc().signal(SIGTERM);
  ASSERT_TRUE(wait_for_log(h.proc(), "shutting down")) << h.proc().log();
  // While draining, a new request is refused (never served as usual).
  auto late = dfd::test::http("GET", h.url("/healthz"), {}, "", 5000);
  EXPECT_NE(late.status, 200);
  auto r = slow.get();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(json::parse(r.body)["slept_ms"], 1500);
  EXPECT_EQ(h.proc().wait(15s), 0) << h.proc().log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  std::string log = h.proc().log();
  EXPECT_THAT(log, HasSubstr("SIGTERM: shutting down (grace 5000 ms)"));
  EXPECT_THAT(log, HasSubstr("[test-info] test-info stopped"));
  EXPECT_THAT(log, Not(HasSubstr("still in flight")));
}

TEST(HostIntegration, SighupKeepsServingAndSigintExitsZero) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  h.proc().signal(SIGHUP);
  ASSERT_TRUE(wait_for_log(h.proc(), "SIGHUP")) << h.proc().log();
  EXPECT_EQ(dfd::test::http("GET", h.url("/healthz")).status, 200);
  EXPECT_TRUE(h.proc().running());
  h.proc().signal(SIGINT);
  EXPECT_EQ(h.proc().wait(15s), 0) << h.proc().log();
  EXPECT_THAT(h.proc().log(), HasSubstr("SIGINT: shutting down"));
}

TEST(HostIntegration, StartFailureExitsNonZeroWithTheMessage) {
  Host h("fail_start = true");
  int status = h.proc().wait(15s);
  EXPECT_NE(status, 0);
  EXPECT_NE(status, -1);
  EXPECT_THAT(h.proc().log(), HasSubstr("plugin 'test-info' failed to start: unavailable: told to "
                                        "fail at start"));
}

TEST(HostIntegration, PortInUseIsReportedBeforePluginsStart) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  dfd::test::TempDir dir;
  std::string cfg = dir.file("c.toml");
  dfd::test::write_file(cfg, "[server]\nid = \"busy\"\nlisten = \"127.0.0.1:" +
                                 std::to_string(port) + "\"\nstate_dir = \"" + dir.file("s") +
                                 "\"\n[[plugin]]\nname = \"digest-openssl\"\n");
  auto r = dfd::test::run({dfd::test::bin("dfd-host"), "--config", cfg});
  ::close(fd);
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("[server] listen 127.0.0.1:" + std::to_string(port) +
                                  ": cannot bind: Address already in use"));
}

TEST(HostCli, VersionHelpAndUsageErrors) {
  auto v = dfd::test::run({dfd::test::bin("dfd-host"), "--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_THAT(v.output, HasSubstr("dfd-host 0.1.0"));
  auto h = dfd::test::run({dfd::test::bin("dfd-host"), "--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_THAT(h.output, HasSubstr("--check"));
  EXPECT_THAT(h.output, HasSubstr("--log-level"));
  EXPECT_NE(dfd::test::run({dfd::test::bin("dfd-host")}).status, 0);
  auto bad = dfd::test::run({dfd::test::bin("dfd-host"), "--config", "x", "--log-level", "loud"});
  EXPECT_NE(bad.status, 0);
  auto missing = dfd::test::run({dfd::test::bin("dfd-host"), "--config", "/nonexistent.toml"});
  EXPECT_NE(missing.status, 0);
  EXPECT_THAT(missing.output, HasSubstr("/nonexistent.toml: cannot read config file"));
}

TEST(HostCli, CheckListsPluginsAndOpensNoSocket) {
  Host h;  // starts a serving host on h.port(); --check on the same config must not bind
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto r = dfd::test::run({dfd::test::bin("dfd-host"), "--config", h.config(), "--check"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("test-info"));
  EXPECT_THAT(r.output, HasSubstr("0.0.1"));
  EXPECT_THAT(r.output, HasSubstr(kTestPluginDir + "/libdfd-test-info.so"));
  EXPECT_THAT(r.output, HasSubstr("digest-openssl       1.0.0      digest"));
  EXPECT_THAT(r.output, HasSubstr("config OK"));
}

}  // namespace

namespace {
TEST(HostCli, ContentWithoutItsPluginsIsRefused) {
  dfd::test::TempDir dir;
  std::string cfg = dir.file("c.toml");
  dfd::test::write_file(cfg, "[server]\nid = \"x\"\nstate_dir = \"" + dir.file("s") +
                                 "\"\n\n[content]\nlisten = \"127.0.0.1:0\"\n\n[[plugin]]\n"
                                 "name = \"digest-openssl\"\n");
  auto r = dfd::test::run({dfd::test::bin("dfd-host"), "--config", cfg, "--check"});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr(cfg + ":5: [content] needs a storage, an auth and a digest "
                                        "plugin; missing: storage auth"));
}
}  // namespace
