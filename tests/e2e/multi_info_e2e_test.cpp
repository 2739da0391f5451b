// Issue 16, "Done when" 1 (first part), with real processes: `scripts/cluster up --postgres
// --info-servers 2` (a private PostgreSQL, RabbitMQ, two info servers info-1 and info-2 on
// info-postgres + auth-postgres, three file servers; TLS on every hop unless DFD_TEST_TLS=0).
//  - a user logged in through info-1 downloads through info-2 with the same user token;
//  - a login failure counted on info-1 counts on info-2 (the throttle lives in PostgreSQL);
//  - info-1 is killed (SIGKILL) in the middle of a run of logins, listings, manifests and
//    downloads through DFD_SERVER=info-1,info-2: every command completes, and every download
//    token issued is announced exactly once (a tap queue of our own on the exchange sees each
//    token.issued event; no token hash twice, at least one per manifest the clients got).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client_cluster.hpp"
#include "dfd/broker.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

// The cluster of scripts/cluster and the values of its cluster.env.
struct ScriptCluster {
  TempDir dir;
  std::map<std::string, std::string> env;
  RunResult up_result;

  std::string script() const { return source_dir() + "/scripts/cluster"; }

  bool up(bool tls) {
    std::vector<std::string> cmd{script(),     "up",
                                 "--postgres", "--info-servers",
                                 "2",          "--dir",
                                 dir.path(),   "--sample-size",
                                 "4M",         tls ? "--tls" : "--plain"};
    up_result = run(cmd, "", {{"DFD_BUILD_DIR", build_dir()}, {"DFD_CLUSTER_TIMEOUT", "180"}});
    if (up_result.status != 0) return false;
    auto r = run({"bash", "-c",
                  "source \"$0\" >/dev/null && for v in \"$@\"; do printf '%s=%s\\n' \"$v\" "
                  "\"${!v:-}\"; done",
                  dir.file("cluster.env"), "DFD_SERVER", "DFD_INFO_URLS", "DFD_INFO_PIDS",
                  "DFD_CA_BUNDLE", "DFD_DEMO_EMAIL", "DFD_DEMO_PASSWORD", "DFD_SAMPLE_DIR",
                  "DFD_RABBITMQ_DIR", "DFD_AMQP_URL", "DFD_FILESERVER_CONTROL_URLS", "DFD_PG_DSN",
                  "DFD_PG_PID"});
    for (std::size_t at = 0; at < r.output.size();) {
      auto nl = r.output.find('\n', at);
      auto line = r.output.substr(at, nl - at);
      auto eq = line.find('=');
      if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
      if (nl == std::string::npos) break;
      at = nl + 1;
    }
    return r.status == 0;
  }
  RunResult down() { return run({script(), "down", "--dir", dir.path()}); }
  RunResult status() { return run({script(), "status", "--dir", dir.path()}); }

  std::vector<std::string> words(const std::string& name) const {
    std::vector<std::string> out;
    std::string w;
    for (char c : env.at(name) + " ") {
      if (c != ' ') {
        w += c;
      } else if (!w.empty()) {
        out.push_back(w);
        w.clear();
      }
    }
    return out;
  }
};

// A queue of our own bound to token.issued (broker user "tap" with the file-server role): every
// token hash announced, in order.
class TokenTap {
 public:
  bool start(const ScriptCluster& c, std::string* why) {
    std::string pw = c.dir.file("tap-password");
    write_file(pw, "tap-password-" + std::to_string(::getpid()) + "\n");
    ::chmod(pw.c_str(), 0600);
    auto u = run({source_dir() + "/scripts/rabbitmq", "user", c.env.at("DFD_RABBITMQ_DIR"), "tap",
                  "@" + pw, "fileserver", "tap"});
    if (u.status != 0) {
      *why = "scripts/rabbitmq user tap: " + u.output;
      return false;
    }
    std::string url = c.env.at("DFD_AMQP_URL");  // scheme://127.0.0.1:PORT/
    auto at = url.find("://");
    url.insert(at + 3, "tap@");
    std::map<std::string, ConfigValue> o{
        {"url", url}, {"queue", std::string("tap")}, {"password_file", pw}};
    if (!c.env.at("DFD_CA_BUNDLE").empty()) o["ca_file"] = c.env.at("DFD_CA_BUNDLE");
    host_ = std::make_unique<FakeHost>(o, "broker-rabbitmq");
    auto p = load_plugin("broker-rabbitmq", *host_);
    if (!p.ok()) {
      *why = p.status().to_string();
      return false;
    }
    plugin_ = std::move(*p);
    auto s = plugin_.as<Broker>()->subscribe(
        {"token.issued"}, [this](std::string_view, std::string_view body) {
          std::string text(body);
          if (text.rfind("dfd-sig1 ", 0) == 0) text = text.substr(text.find('\n') + 1);
          auto j = json::parse(text, nullptr, false);
          std::lock_guard<std::mutex> lock(mu_);
          ++events_;
          if (j.is_object() && j.contains("tokens") && j["tokens"].is_array()) {
            for (auto& t : j["tokens"]) hashes_.push_back(t.value("token_hash", ""));
          } else if (j.is_object()) {
            hashes_.push_back(j.value("token_hash", ""));
          }
          return Status::Ok();
        });
    if (!s.ok()) *why = s.to_string();
    return s.ok();
  }
  void stop() { plugin_.stop(); }
  std::vector<std::string> hashes() {
    std::lock_guard<std::mutex> lock(mu_);
    return hashes_;
  }
  int events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  std::unique_ptr<FakeHost> host_;
  LoadedPlugin plugin_;
  std::mutex mu_;
  std::vector<std::string> hashes_;
  int events_ = 0;
};

class MultiInfo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* t = std::getenv("DFD_TEST_TLS");
    tls_ = !(t && std::string(t) == "0");
    c_ = new ScriptCluster();
    ok_ = c_->up(tls_);
    if (ok_ && tls_) set_http_tls({c_->env.at("DFD_CA_BUNDLE"), "", ""});
  }
  static void TearDownTestSuite() {
    // `down` stops every info server (info-1 may be dead already) and PostgreSQL, by PID.
    std::vector<std::string> pids;
    if (ok_) {
      pids = c_->words("DFD_INFO_PIDS");
      pids.push_back(c_->env.at("DFD_PG_PID"));
    }
    auto d = c_->down();
    EXPECT_EQ(d.status, 0) << d.output;
    for (const auto& p : pids) {
      auto st = run({"bash", "-c", "awk '{print $3}' /proc/$0/stat 2>/dev/null", p}).output;
      EXPECT_TRUE(st.empty() || st[0] == 'Z') << "pid " << p << " survived down: " << d.output;
    }
    delete c_;
    c_ = nullptr;
    set_http_tls({});
  }
  void SetUp() override {
    ASSERT_TRUE(ok_) << c_->up_result.output;
    info_ = c_->words("DFD_INFO_URLS");
    ASSERT_EQ(info_.size(), 2u) << c_->env.at("DFD_INFO_URLS");
    ASSERT_EQ(c_->env.at("DFD_SERVER"), info_[0] + "," + info_[1]);
  }

  // `dfd ARGS` with its own config dir `home`; DFD_SERVER = the cluster's list unless --server.
  RunResult dfd(const std::string& home, std::vector<std::string> args,
                const std::string& in = "") {
    args.insert(args.begin(), bin("dfd"));
    std::map<std::string, std::string> env{{"XDG_CONFIG_HOME", home + "/config"},
                                           {"HOME", home},
                                           {"DFD_SERVER", c_->env.at("DFD_SERVER")}};
    if (tls_) env["DFD_CA_BUNDLE"] = c_->env.at("DFD_CA_BUNDLE");
    return run(args, in, env);
  }
  RunResult login(const std::string& home, std::vector<std::string> pre = {}) {
    pre.insert(pre.end(), {"login", "--email", c_->env.at("DFD_DEMO_EMAIL"), "--password-stdin"});
    return dfd(home, pre, c_->env.at("DFD_DEMO_PASSWORD") + "\n");
  }
  // The id of sample `name` from `dfd ls --json` ("" if missing).
  std::string id_of(const std::string& home, const std::string& name) {
    auto r = dfd(home, {"ls", "--json"});
    auto j = json::parse(r.output.substr(0, r.output.rfind('}') + 1), nullptr, false);
    if (r.status != 0 || !j.is_object()) return "";
    for (auto& f : j["files"])
      if (f["name"] == name) return std::to_string(f["id"].get<long long>());
    return "";
  }
  std::string sample(const std::string& name) const {
    return c_->env.at("DFD_SAMPLE_DIR") + "/" + name;
  }
  static HttpReply api(const std::string& method, const std::string& url, const std::string& token,
                       const json& body = nullptr) {
    std::vector<std::string> h{"Authorization: Bearer " + token};
    if (!body.is_null()) h.push_back("Content-Type: application/json");
    return http(method, url, h, body.is_null() ? "" : body.dump());
  }
  static HttpReply login_at(const std::string& base, const std::string& email,
                            const std::string& pw) {
    return http("POST", base + "/v1/auth/login", {"Content-Type: application/json"},
                json{{"email", email}, {"password", pw}}.dump());
  }

  static ScriptCluster* c_;
  static bool ok_, tls_;
  std::vector<std::string> info_;
  TempDir home_;
};
ScriptCluster* MultiInfo::c_ = nullptr;
bool MultiInfo::ok_ = false;
bool MultiInfo::tls_ = true;

// A user logged in through info-1 downloads through info-2 with the same user token.
TEST_F(MultiInfo, LoggedInThroughOneDownloadsThroughTheOther) {
  auto r = login(home_.path(), {"--server", info_[0] + "," + info_[1]});
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_NE(r.output.find("logged in to " + info_[0]), std::string::npos) << r.output;
  auto creds = json::parse(read_file(home_.path() + "/config/dfd/credentials"));
  std::string token = creds.at("token");
  // The same token on info-2, straight over HTTP, and through dfd with info-2 alone.
  EXPECT_EQ(api("GET", info_[1] + "/v1/files?limit=10", token).status, 200);
  std::string id = id_of(home_.path(), "odd.bin");
  ASSERT_FALSE(id.empty());
  std::string out = home_.file("odd.bin");
  r = dfd(home_.path(), {"--server", info_[1], "get", id, "-o", out, "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(sha256_file(out), sha256_file(sample("odd.bin")));
  // The catalog is one: the same id names the same file on both servers.
  auto m1 = api("GET", info_[0] + "/v1/files/" + id, token);
  auto m2 = api("GET", info_[1] + "/v1/files/" + id, token);
  ASSERT_EQ(m1.status, 200) << m1.body;
  ASSERT_EQ(m2.status, 200) << m2.body;
  EXPECT_EQ(json::parse(m1.body)["uid"], json::parse(m2.body)["uid"]);
}

// Failed logins counted on info-1 lock the (account, address) pair on info-2 as well.
TEST_F(MultiInfo, LoginFailuresOnOneCountOnTheOther) {
  auto admin = login_at(info_[0], c_->env.at("DFD_DEMO_EMAIL"), c_->env.at("DFD_DEMO_PASSWORD"));
  ASSERT_EQ(admin.status, 200) << admin.body;
  std::string admin_token = json::parse(admin.body).at("token");
  const std::string email = "throttled@example.org", pw = "right-password-1";
  auto made = api("POST", info_[0] + "/v1/users", admin_token,
                  {{"email", email}, {"password", pw}, {"role", "user"}});
  ASSERT_EQ(made.status, 201) << made.body;
  // Created on info-1, known on info-2.
  ASSERT_EQ(login_at(info_[1], email, pw).status, 200);
  for (int i = 0; i < 5; ++i)  // login_max_failures = 5 in configs/info-postgres.toml
    EXPECT_EQ(login_at(info_[0], email, "wrong-password").status, 401) << i;
  auto r = login_at(info_[1], email, pw);
  EXPECT_EQ(r.status, 429) << r.body;
}

// info-1 SIGKILLed in the middle of a run through DFD_SERVER=info-1,info-2: every command
// completes, every token is announced once.
TEST_F(MultiInfo, InfoOneKilledMidRunEveryCommandCompletes) {
  TokenTap tap;
  std::string why;
  ASSERT_TRUE(tap.start(*c_, &why)) << why;
  ASSERT_EQ(login(home_.path()).status, 0);
  std::string id = id_of(home_.path(), "small.bin");
  ASSERT_FALSE(id.empty());
  const std::string want = sha256_file(sample("small.bin"));
  auto before = tap.hashes().size();

  constexpr int kWorkers = 3, kRounds = 4;
  std::atomic<int> done{0}, failed{0}, manifests{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto record = [&](const std::string& what, const RunResult& r) {
    ++done;
    if (r.status == 0) return true;
    ++failed;
    std::lock_guard<std::mutex> lock(mu);
    failures.push_back(what + ": exit " + std::to_string(r.status) + ": " + r.output);
    return false;
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      std::string home = home_.path() + "/w" + std::to_string(w);
      for (int i = 0; i < kRounds; ++i) {
        std::string tag = "worker " + std::to_string(w) + " round " + std::to_string(i);
        record(tag + " login", login(home));
        record(tag + " ls", dfd(home, {"ls"}));
        if (record(tag + " info", dfd(home, {"info", id}))) ++manifests;
        std::string out = home + "/small-" + std::to_string(i) + ".bin";
        auto g = dfd(home, {"get", id, "-o", out, "--no-progress"});
        if (record(tag + " get", g)) {
          ++manifests;
          if (sha256_file(out) != want) {
            std::lock_guard<std::mutex> lock(mu);
            failures.push_back(tag + " get: wrong bytes");
          }
        }
      }
    });
  }
  constexpr int kTotal = kWorkers * kRounds * 4;
  // Kill info-1 once a quarter of the commands are done (bounded wait).
  auto until = std::chrono::steady_clock::now() + 120s;
  while (done.load() < kTotal / 4 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  int done_at_kill = done.load();
  pid_t info1 = static_cast<pid_t>(std::stol(c_->words("DFD_INFO_PIDS")[0]));
  ASSERT_EQ(::kill(info1, SIGKILL), 0);
  for (auto& t : workers) t.join();
  std::printf("multi-info: %d commands (%d before info-1 was killed), %d failed, %d manifests\n",
              done.load(), done_at_kill, failed.load(), manifests.load());
  EXPECT_GT(done_at_kill, 0);
  EXPECT_LT(done_at_kill, kTotal);
  EXPECT_EQ(done.load(), kTotal);
  EXPECT_EQ(failed.load(), 0);
  for (auto& f : failures) ADD_FAILURE() << f;
  EXPECT_NE(http("GET", info_[0] + "/healthz").status, 200);  // info-1 really is gone
  auto st = c_->status();  // says so: info-1 down, info-2 and PostgreSQL up
  EXPECT_NE(st.status, 0) << st.output;
  auto row = [&](const std::string& part) {
    auto at = st.output.find("\n" + part + " ");
    return at == std::string::npos
               ? ""
               : st.output.substr(at + 1, st.output.find('\n', at + 1) - at - 1);
  };
  EXPECT_NE(row("info-1").find(" down "), std::string::npos) << st.output;
  EXPECT_NE(row("info-2").find(" up "), std::string::npos) << st.output;
  EXPECT_NE(row("postgres").find(" up "), std::string::npos) << st.output;

  // Every manifest's token reaches the tap (confirmed before the manifest was answered); wait
  // for the deliveries, bounded.
  until = std::chrono::steady_clock::now() + 20s;
  while (tap.hashes().size() - before < static_cast<std::size_t>(manifests.load()) &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(500ms);  // a duplicate would arrive about as late as the last one
  auto hashes = tap.hashes();
  tap.stop();
  std::vector<std::string> run_hashes(hashes.begin() + static_cast<long>(before), hashes.end());
  std::set<std::string> unique(run_hashes.begin(), run_hashes.end());
  std::printf("multi-info: %zu tokens announced in %d token.issued events, %zu distinct\n",
              run_hashes.size(), tap.events(), unique.size());
  EXPECT_EQ(unique.size(), run_hashes.size()) << "a token was announced twice";
  EXPECT_GE(run_hashes.size(), static_cast<std::size_t>(manifests.load()));
  for (auto& h : unique) EXPECT_EQ(h.size(), 64u) << h;
}

}  // namespace
}  // namespace dfd::test
