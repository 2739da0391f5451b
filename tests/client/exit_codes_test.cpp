// Issue 13: exit codes that are consistent. The mapping of an info server's HTTP status to dfd's
// exit code and message (client/src/info_status.*), then the real `dfd` binary against a real HTTP
// info endpoint on 127.0.0.1 (TestServer) answering 429, 401, 403, 404 and 503, and against a real
// dfd-host whose login throttle answers 429.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "aio_host.hpp"
#include "cli_cluster.hpp"
#include "harness.hpp"
#include "info_status.hpp"
#include "util.hpp"

using namespace dfd::client;
using namespace dfd::test::cli;

TEST(InfoStatus, ExitCodeOfEachStatus) {
  EXPECT_EQ(exit_code_for_info_status(401), exit_code::kAuth);
  EXPECT_EQ(exit_code_for_info_status(403), exit_code::kAuth);
  EXPECT_EQ(exit_code_for_info_status(404), exit_code::kNotFound);
  EXPECT_EQ(exit_code_for_info_status(429), exit_code::kThrottled);
  EXPECT_EQ(exit_code_for_info_status(429), 13);
  EXPECT_EQ(exit_code_for_info_status(400), exit_code::kServer);
  EXPECT_EQ(exit_code_for_info_status(409), exit_code::kServer);
  EXPECT_EQ(exit_code_for_info_status(500), exit_code::kServer);
  EXPECT_EQ(exit_code_for_info_status(503), exit_code::kServer);
}

TEST(InfoStatus, RetryAfterSeconds) {
  EXPECT_EQ(parse_retry_after("30"), 30);
  EXPECT_EQ(parse_retry_after(" 5\r\n"), 5);
  EXPECT_EQ(parse_retry_after("0"), 0);
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after("1.5"));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(parse_retry_after("99999999999999"));
}

TEST(InfoStatus, Messages) {
  EXPECT_EQ(info_error_message("login failed", 429, "too many failed logins; retry in 30 s", 30),
            "login throttled: try again in 30 s (too many failed logins)");
  EXPECT_EQ(info_error_message("file 7", 429, "", std::nullopt),
            "file 7: throttled: try again later");
  EXPECT_EQ(info_error_message("login failed", 401, "invalid email or password", std::nullopt),
            "login failed: invalid email or password");
  EXPECT_EQ(info_error_message("file 9", 404, "", std::nullopt), "file 9: HTTP 404");
}

namespace {
// One dfd run against the cluster's info endpoint answering `status` (with a Retry-After).
dfd::test::RunResult with_info_status(Cluster& c, int status, std::vector<std::string> args,
                                      const std::string& in = "") {
  c.info.faults.info_status = status;
  c.info.faults.info_retry_after = 30;
  auto r = c.dfd(std::move(args), in);
  c.info.faults.info_status = 0;
  return r;
}
}  // namespace

TEST(ExitCodes, ThrottledLoginIsNotAnInfoServerError) {
  Cluster c(1 << 20);
  auto r = with_info_status(c, 429, {"login", "--email", "ann@example.org", "--password-stdin"},
                            "s3cret\n");
  EXPECT_EQ(r.status, 13) << r.output;
  EXPECT_NE(r.output.find("dfd: login throttled: try again in 30 s"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("s3cret"), std::string::npos) << r.output;
}

TEST(ExitCodes, EachInfoAnswerHasItsCode) {
  Cluster c(1 << 20);
  c.login();
  auto throttled = with_info_status(c, 429, get_args(c));
  EXPECT_EQ(throttled.status, 13) << throttled.output;
  EXPECT_NE(throttled.output.find("file 7: throttled: try again in 30 s"), std::string::npos)
      << throttled.output;
  EXPECT_EQ(with_info_status(c, 401, {"ls"}).status, 3);
  EXPECT_EQ(with_info_status(c, 403, {"info", "7"}).status, 3);
  auto missing = c.dfd({"info", "99"});
  EXPECT_EQ(missing.status, 5) << missing.output;
  auto down = with_info_status(c, 503, {"ls"});  // every round of the list: InfoUnavailable
  EXPECT_EQ(down.status, 4) << down.output;
  EXPECT_NE(down.output.find("no info server answered"), std::string::npos) << down.output;
  auto bad = with_info_status(c, 400, {"ls"});
  EXPECT_EQ(bad.status, 4) << bad.output;
}

// The same with a real info server (an all-in-one dfd-host): its login throttle answers 429.
TEST(ExitCodes, RealThrottledLogin) {
  dfd::test::AioHost aio("hello\n", "login_max_failures = 2\n");
  ASSERT_TRUE(aio.ready) << aio.host->log();
  dfd::test::TempDir home;
  std::map<std::string, std::string> env = {
      {"XDG_CONFIG_HOME", home.file("config")}, {"HOME", home.path()}, {"DFD_SERVER", aio.base}};
  auto login = [&](const std::string& pw) {
    return dfd::test::run(
        {dfd::test::bin("dfd"), "login", "--email", "admin@example.com", "--password-stdin"},
        pw + "\n", env);
  };
  for (int i = 0; i < 2; ++i) EXPECT_EQ(login("wrong-password").status, 3);
  auto r = login("admin-password-1");  // right, but too late: the pair waits
  EXPECT_EQ(r.status, 13) << r.output;
  EXPECT_TRUE(
      std::regex_search(r.output, std::regex(R"(dfd: login throttled: try again in \d+ s)")))
      << r.output;
  EXPECT_EQ(r.output.find("info server"), std::string::npos) << r.output;
}
