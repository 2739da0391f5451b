// Issue 14 (observe) against a real dfd-host process: X-Request-Id on the control plane (echoed,
// handed to plugins, named in error log lines), process_* series on /metrics, and log lines
// with the UTC offset.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "host_process.hpp"

namespace {
using dfd::test::Host;
using dfd::test::http;
using dfd::test::wait_for_log;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using json = nlohmann::json;

TEST(HostObserve, ControlPlaneEchoesAValidRequestIdAndMakesOneOtherwise) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto r = http("GET", h.url("/livez"), {"X-Request-Id: ctl-42.a_B"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-request-id"], "ctl-42.a_B");
  for (const std::string& bad :
       {std::string(), std::string("has space"), std::string(65, 'x'), std::string("semi;colon")}) {
    std::vector<std::string> headers;
    if (!bad.empty()) headers.push_back("X-Request-Id: " + bad);
    r = http("GET", h.url("/livez"), headers);
    ASSERT_EQ(r.status, 200);
    EXPECT_THAT(r.headers["x-request-id"], MatchesRegex("[0-9a-f]{16}")) << bad;
  }
  // Errors the host makes itself carry one too.
  r = http("GET", h.url("/no/such/route"), {"X-Request-Id: missing-1"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers["x-request-id"], "missing-1");
}

TEST(HostObserve, PluginsSeeTheEffectiveIdAndErrorLinesNameIt) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto r = http("GET", h.url("/test/echo/1"), {"X-Request-Id: echo-1"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["headers"]["x-request-id"], "echo-1");
  r = http("GET", h.url("/test/echo/2"), {"X-Request-Id: not valid"});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string made = r.headers["x-request-id"];
  EXPECT_THAT(made, MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(json::parse(r.body)["headers"]["x-request-id"], made);  // not the client's
  r = http("GET", h.url("/test/throw"), {"X-Request-Id: throw-1"});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.headers["x-request-id"], "throw-1");
  EXPECT_TRUE(wait_for_log(h.proc(), "(request throw-1)")) << h.proc().log();
}

TEST(HostObserve, MetricsHaveProcessSeriesOfTheHostProcess) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto r = http("GET", h.url("/metrics"));
  ASSERT_EQ(r.status, 200);
  std::map<std::string, double> v;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("process_", 0) != 0) continue;
    auto sp = line.find(' ');
    v[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds"}) {
    EXPECT_EQ(v.count(name), 1u) << name << "\n" << r.body;
  }
  // The host's own figures, not this test's: its RSS is what /proc/PID/status says, roughly.
  double rss_kib = std::stod(dfd::test::proc_status(h.proc().pid(), "VmRSS"));
  EXPECT_GT(v["process_resident_memory_bytes"], rss_kib * 1024 / 2);
  EXPECT_LT(v["process_resident_memory_bytes"], rss_kib * 1024 * 2);
  EXPECT_GE(v["process_open_fds"], 4);  // std streams + the listener at least
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(v["process_start_time_seconds"], now - 120);
  EXPECT_LE(v["process_start_time_seconds"], now + 1);
  EXPECT_THAT(r.body, HasSubstr("# TYPE process_cpu_seconds_total counter"));
  EXPECT_THAT(r.body, HasSubstr("dfd_build_info"));
}

TEST(HostObserve, LogLinesCarryTheUtcOffset) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  std::istringstream in(h.proc().log());
  std::string first;
  std::getline(in, first);
  EXPECT_TRUE(std::regex_match(
      first,
      std::regex(
          R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (trace|debug|info|warning|error|critical) \[[a-z0-9-]+\] .*)")))
      << first;
}

}  // namespace
