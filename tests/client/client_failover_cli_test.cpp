// The real `dfd` with several info servers (issue 16): --server / DFD_SERVER take a list; a
// real info server (an all-in-one dfd-host, tests/info/aio_host.hpp) behind a first server that
// is down (its port closed after a SIGKILL) or answers 503 (tests/client/test_file_server.*)
// serves login, ls and get; a 4xx is the answer and goes to no other server; the stored token is
// only sent to servers of the list it was obtained with.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "aio_host.hpp"
#include "cli_cluster.hpp"
#include "harness.hpp"
#include "test_file_server.hpp"

namespace dfd::test {
namespace {
using ::testing::HasSubstr;
using namespace std::chrono_literals;

class ClientFailover : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { live_ = new AioHost("served by the second server\n", ""); }
  static void TearDownTestSuite() {
    delete live_;
    live_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(live_->ready) << live_->host->log();
    env_ = {{"XDG_CONFIG_HOME", home_.file("config")}, {"HOME", home_.path()}};
  }

  RunResult dfd(std::vector<std::string> args, const std::string& in = "",
                std::map<std::string, std::string> extra_env = {}) {
    args.insert(args.begin(), bin("dfd"));
    auto env = env_;
    for (auto& [k, v] : extra_env) env[k] = v;
    return run(args, in, env);
  }
  RunResult login(const std::string& servers, const std::string& pw = "admin-password-1") {
    return dfd({"--server", servers, "login", "--email", "admin@example.com", "--password-stdin"},
               pw + "\n");
  }
  // `dfd ls --json` through `servers` until the one file is listed; its id ("" after 20 s).
  std::string wait_listed(const std::string& servers) {
    auto end = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < end) {
      auto r = dfd({"--server", servers, "ls", "--json"});
      auto j = nlohmann::json::parse(r.output.substr(0, r.output.rfind('}') + 1), nullptr, false);
      if (r.status == 0 && j.is_object() && j["total"] == 1)
        return std::to_string(j["files"][0]["id"].get<int>());
      std::this_thread::sleep_for(100ms);
    }
    return "";
  }

  static AioHost* live_;
  TempDir home_;
  std::map<std::string, std::string> env_;
};
AioHost* ClientFailover::live_ = nullptr;

// The first info server is killed (SIGKILL: its port is closed); login, ls and get go to the
// second, through --server and through DFD_SERVER.
TEST_F(ClientFailover, FirstServerKilledTheSecondServesEverything) {
  AioHost dead("never asked\n", "");
  ASSERT_TRUE(dead.ready) << dead.host->log();
  dead.host->signal(SIGKILL);
  ASSERT_NE(dead.host->wait(10s), -1);
  std::string list = dead.base + "," + live_->base;

  auto r = login(list);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("logged in to " + live_->base));
  std::string id = wait_listed(list);
  ASSERT_FALSE(id.empty());
  std::string out = home_.file("got.txt");
  r = dfd({"get", id, "-o", out, "--no-progress"}, "", {{"DFD_SERVER", list}});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(out), "served by the second server\n");
  // The login stored the list: without --server or DFD_SERVER the same failover happens.
  r = dfd({"ls"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("hello.txt"));
}

// A first server answering 503 is asked once per call; the second answers.
TEST_F(ClientFailover, FirstServerAnswering503) {
  TestServer busy("busy");
  busy.faults.info_status = 503;
  std::string list = busy.url() + "," + live_->base;
  auto r = login(list);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(busy.info_requests.load(), 1u);
  std::string id = wait_listed(list);
  ASSERT_FALSE(id.empty());
  auto before = busy.info_requests.load();
  r = dfd({"get", id, "-o", home_.file("x.txt"), "--no-progress"}, "", {{"DFD_SERVER", list}});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(busy.info_requests.load(), before + 1);  // the manifest: one try, then the second
}

// A wrong password is the answer (401): the second server of the list is not asked.
TEST_F(ClientFailover, AFourHundredDoesNotMoveOn) {
  TestServer other("other");
  auto r = login(live_->base + "," + other.url(), "wrong-password");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("invalid email or password"));
  EXPECT_EQ(other.info_requests.load(), 0u);
}

// Every server down: one error naming each URL, exit 4, after the bounded rounds.
TEST_F(ClientFailover, EveryServerDownNamesEachOne) {
  std::string a = "http://127.0.0.1:" + std::to_string(free_port());
  TestServer busy("busy");
  busy.faults.info_status = 503;
  auto r = login(a + "," + busy.url());
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_THAT(r.output, HasSubstr("login failed: no info server answered (3 rounds): " + a + " ("));
  EXPECT_THAT(r.output, HasSubstr(busy.url() + " (HTTP 503: info fault 503)"));
  EXPECT_EQ(busy.info_requests.load(), 3u);
}

// The stored user token goes only to servers of the list it was obtained with.
TEST_F(ClientFailover, TheTokenIsNotSentOutsideTheLoginList) {
  TestServer stranger("stranger");
  auto r = login(live_->base);
  ASSERT_EQ(r.status, 0) << r.output;
  r = dfd({"--server", live_->base + "," + stranger.url(), "ls"});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not logged in to " + stranger.url()));
  EXPECT_EQ(stranger.info_requests.load(), 0u);
}

// A token renewal during a download fails over too: the first info server hands out a token the
// file servers refuse and then answers 503; the renewal comes from the second server.
TEST(ClientFailoverRenewal, TheRenewedTokenComesFromTheNextServer) {
  cli::Cluster c(8 * cli::kMiB, cli::kMiB, "sha256", {"stale"}, {"fresh"});
  TestServer second("info-2");
  second.serve_info("ann@example.org", "s3cret", {c.file}, c.locs, {"fresh"});
  c.info.faults.info_status = 503;
  c.info.faults.info_status_after = 1;  // after its first manifest
  c.env["DFD_SERVER"] = c.info.url() + "," + second.url();
  c.login();
  auto r = c.dfd(cli::get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(c.out()), *c.file.data);
  EXPECT_EQ(cli::report_of(r.output)["token_renewals"], 1);
  EXPECT_EQ(c.info.manifest_requests.load(), 1u);
  EXPECT_EQ(second.manifest_requests.load(), 1u);
}

}  // namespace
}  // namespace dfd::test
