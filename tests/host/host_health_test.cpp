// /livez, /readyz and who may read /healthz and /metrics (issue 11 #14), and where state may live
// (issue 11 #13), against real dfd-host processes.
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "host_process.hpp"

namespace {
using dfd::test::Host;
using dfd::test::HostSetup;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kToken = "admin-secret-0123456789";

TEST(HostHealth, LivezAndReadyzAreOpenAndTiny) {
  Host h;
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto live = dfd::test::http("GET", h.url("/livez"));
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body, R"({"status":"alive"})");
  auto ready = dfd::test::http("GET", h.url("/readyz"));
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"status":"ready"})");
}

TEST(HostHealth, AnUnhealthyPluginMakesReadyz503WithoutItsDetail) {
  Host h("healthy = false\ndetail = \"db /secret/path/x.db is gone\"");
  ASSERT_TRUE(dfd::test::wait_http(h.url("/readyz"), 503, 20s)) << h.proc().log();
  auto r = dfd::test::http("GET", h.url("/readyz"));
  EXPECT_EQ(r.body, R"({"status":"not_ready"})");
  EXPECT_EQ(dfd::test::http("GET", h.url("/livez")).status, 200);
}

// A file server whose broker is unreachable still serves the tokens it knows: ready, while its
// detailed report says the broker is down. An info-role host without its broker is not ready.
TEST(HostHealth, ABrokerOutageLeavesAFileServerReadyButNotAnInfoServer) {
  const std::string amqp =
      "amqp://guest:guest@127.0.0.1:" + std::to_string(dfd::test::free_port()) +
      "/";  // nobody listens
  dfd::test::TempDir dir;
  int control = dfd::test::free_port();
  ::mkdir(dir.file("files").c_str(), 0755);
  auto keys = dfd::test::event_keys(dir.file("keys"), "fileserver", "fs-a");
  ASSERT_EQ(keys.status, 0) << keys.output;
  // The shipped config is a TLS config: its certificate, the broker's CA and password as files.
  ASSERT_TRUE(dfd::test::make_pki(dir.file("pki"), {"server"}));
  dfd::test::set_http_tls({dir.file("pki/ca.pem"), "", ""});
  dfd::test::write_file(dir.file("amqp-password"), "unused");
  ::chmod(dir.file("amqp-password").c_str(), 0600);
  const std::string amqps =
      "amqps://fs-a@127.0.0.1:" + std::to_string(dfd::test::free_port()) + "/";  // nobody listens
  dfd::test::Process fs(
      {dfd::test::bin("dfd-host"), "--config",
       dfd::test::source_dir() + "/configs/fileserver-a.toml"},
      {{"DFD_CONTROL_LISTEN", "127.0.0.1:" + std::to_string(control)},
       {"DFD_CONTENT_LISTEN", "127.0.0.1:" + std::to_string(dfd::test::free_port())},
       {"DFD_STATE_DIR", dir.file("state")},
       {"DFD_STORAGE_ROOT", dir.file("files")},
       {"DFD_AMQP_URL", amqps},
       {"DFD_AMQP_CA_FILE", dir.file("pki/ca.pem")},
       {"DFD_AMQP_PASSWORD_FILE", dir.file("amqp-password")},
       {"DFD_TLS_CERT", dir.file("pki/server.pem")},
       {"DFD_TLS_KEY", dir.file("pki/server.key")},
       {"DFD_EVENTS_DIR", dir.file("keys")}});
  std::string base = "https://127.0.0.1:" + std::to_string(control);
  ASSERT_TRUE(dfd::test::wait_http(base + "/livez", 200, 30s)) << fs.log();
  EXPECT_TRUE(dfd::test::wait_http(base + "/readyz", 200, 10s)) << fs.log();
  auto detail = dfd::test::http("GET", base + "/healthz");
  EXPECT_EQ(detail.status, 503) << detail.body;
  EXPECT_THAT(detail.body, HasSubstr("broker-rabbitmq"));

  HostSetup info;
  info.extra_plugins = "\n[[plugin]]\nname = \"broker-rabbitmq\"\nurl = \"" + amqp +
                       "\"\n\n[events]\nallow_unsigned = true\n";
  Host h(info);
  ASSERT_TRUE(dfd::test::wait_http(h.url("/livez"), 200, 30s)) << h.proc().log();
  EXPECT_TRUE(dfd::test::wait_http(h.url("/readyz"), 503, 10s)) << h.proc().log();
  // allow_unsigned = true: said loudly in the report.
  EXPECT_THAT(dfd::test::http("GET", h.url("/healthz")).body, HasSubstr("UNSIGNED"));
}

// Runs curl inside the network namespace of `pid`: returns "STATUS BODY".
std::string curl_in(pid_t pid, const std::string& url, const std::string& bearer = "") {
  std::vector<std::string> argv{
      "nsenter", "-t", std::to_string(pid), "-n", "curl", "-s", "-m", "10", "-o",
      "-",       "-w", " %{http_code}"};
  if (!bearer.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + bearer});
  argv.push_back(url);
  std::string out = dfd::test::run(argv).output;
  auto sp = out.rfind(' ');
  return sp == std::string::npos ? out : out.substr(sp + 1) + " " + out.substr(0, sp);
}

// A listener not bound to loopback: in a private network namespace (nothing outside this test
// can reach it) dfd-host listens on 0.0.0.0; only the admin token opens the details.
TEST(HostHealth, OnANonLoopbackListenerDetailsNeedTheAdminToken) {
  if (dfd::test::run({"unshare", "-n", "true"}).status != 0) {
    GTEST_SKIP() << "unshare -n is not permitted here";
  }
  dfd::test::TempDir secrets;
  dfd::test::write_file(secrets.file("admin-token"), kToken + "\n");
  HostSetup s;
  s.listen_host = "0.0.0.0";
  s.server_keys = "admin_token_file = \"" + secrets.file("admin-token") + "\"\n";
  s.launcher = {"unshare", "-n", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh"};
  Host h(s);
  pid_t pid = h.proc().pid();
  std::string port = std::to_string(h.port());
  auto url = [&](const std::string& path) { return "http://127.0.0.1:" + port + path; };
  std::string live;
  for (int i = 0; i < 200 && live.rfind("200 ", 0) != 0; ++i) {
    live = curl_in(pid, url("/livez"));
    if (live.rfind("200 ", 0) != 0) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(live, "200 {\"status\":\"alive\"}") << h.proc().log();
  EXPECT_EQ(curl_in(pid, url("/readyz")), "200 {\"status\":\"ready\"}");
  for (const std::string path : {"/healthz", "/metrics"}) {
    std::string anon = curl_in(pid, url(path));
    EXPECT_THAT(anon, ::testing::StartsWith("401 ")) << path;
    EXPECT_THAT(anon, HasSubstr("\"unauthorized\"")) << path;
    EXPECT_THAT(anon, Not(HasSubstr("test-info"))) << path;
    EXPECT_THAT(curl_in(pid, url(path), kToken + "x"), ::testing::StartsWith("401 ")) << path;
    EXPECT_THAT(curl_in(pid, url(path), "admin-secret"), ::testing::StartsWith("401 ")) << path;
  }
  std::string detail = curl_in(pid, url("/healthz"), kToken);
  EXPECT_THAT(detail, ::testing::StartsWith("200 "));
  EXPECT_THAT(detail, HasSubstr("\"test-info\""));
  EXPECT_THAT(curl_in(pid, url("/metrics"), kToken), HasSubstr("dfd_plugins_loaded 2"));
  EXPECT_THAT(h.proc().log(), Not(HasSubstr(kToken)));
}

// ---- where state may live (StrictModes) -------------------------------------------------------

struct StateCase {
  dfd::test::TempDir dir;
  std::string config;
  // Writes a config with `state_dir` and, if given, a `db` key in the test-info table.
  StateCase(const std::string& state_dir, const std::string& db = "") {
    config = dir.file("c.toml");
    dfd::test::write_file(
        config,
        "plugin_path = [\"" + dfd::test::kTestPluginDir +
            "\"]\n[server]\nid = \"sd\"\nstate_dir = \"" + state_dir +
            "\"\n\n[[plugin]]\nname = \"digest-openssl\"\n" +
            (db.empty() ? "" : "\n[[plugin]]\nname = \"test-info\"\ndb = \"" + db + "\"\n"));
  }
  dfd::test::RunResult check() {
    return dfd::test::run({dfd::test::bin("dfd-host"), "--config", config, "--check"});
  }
};

TEST(HostStateDir, WorldWritableWithoutStickyBitIsRefused) {
  dfd::test::TempDir base;
  std::string open = base.file("open");
  ::mkdir(open.c_str(), 0777);
  ::chmod(open.c_str(), 0777);
  StateCase c(open + "/state");
  auto r = c.check();
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output,
              HasSubstr(c.config + ":4: [server] key 'state_dir' ('" + open + "/state'): '" + open +
                        "' is world-writable without the sticky bit"));
}

TEST(HostStateDir, ADirectoryOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to hand a directory to another user";
  dfd::test::TempDir base;
  std::string theirs = base.file("theirs");
  ::mkdir(theirs.c_str(), 0755);
  ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
  StateCase c(theirs);
  auto r = c.check();
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("'" + theirs + "' is owned by uid 65534, neither root nor"));
  // A planted file inside our own state_dir, too.
  std::string ours = base.file("ours");
  ::mkdir(ours.c_str(), 0700);
  dfd::test::write_file(ours + "/catalog.db", "");
  ASSERT_EQ(::chown((ours + "/catalog.db").c_str(), 65534, 65534), 0);
  StateCase planted(ours);
  r = planted.check();
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("'" + ours + "/catalog.db' is owned by uid 65534"));
  // Starting (not only --check) refuses as well.
  dfd::test::Process start({dfd::test::bin("dfd-host"), "--config", planted.config});
  int status = start.wait(15s);  // -1: it kept running (then the destructor kills it)
  EXPECT_NE(status, 0);
  EXPECT_NE(status, -1);
  EXPECT_THAT(start.log(), HasSubstr("refusing to keep state where another user can change it"));
}

TEST(HostStateDir, AStickyRootOwnedParentLikeTmpIsFineButNotAsTheStateDirItself) {
  dfd::test::TempDir base;
  std::string sticky = base.file("tmp-like");
  ::mkdir(sticky.c_str(), 0777);
  ::chmod(sticky.c_str(), 01777);
  StateCase ok(sticky + "/mine");
  auto r = ok.check();
  EXPECT_EQ(r.status, 0) << r.output;
  StateCase itself(sticky);
  r = itself.check();
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("'" + sticky + "' is writable by every user"));
}

TEST(HostStateDir, ADatabaseInAWorldWritableDirectoryIsRefusedNamingItsKey) {
  dfd::test::TempDir base;
  std::string open = base.file("open");
  ::mkdir(open.c_str(), 0777);
  ::chmod(open.c_str(), 0777);
  StateCase c(base.file("state"), open + "/auth.db");
  auto r = c.check();
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr(c.config + ":11: [[plugin]] test-info key 'db' ('" + open +
                                  "/auth.db'): '" + open + "' is writable by every user"));
}

}  // namespace
