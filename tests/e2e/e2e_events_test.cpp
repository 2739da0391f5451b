// Issue 4's acceptance, end to end: a real RabbitMQ (scripts/rabbitmq), one info server and two
// file servers, all real dfd-host processes on loopback.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "dfd/broker.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "real_cluster.hpp"

using json = nlohmann::json;
using namespace dfd::test;
using namespace std::chrono_literals;

namespace {

const char* kAdminEmail = "admin@e2e.test";
const char* kAdminPassword = "correct horse battery staple";

class Cluster : public RealCluster {
 public:
  std::string user_token;
  std::string uid;
  std::int64_t file_id = 0;
  std::string content;  // the sample file's bytes

  HttpReply api(const std::string& method, const std::string& path, const std::string& body = "") {
    std::vector<std::string> h = {"Content-Type: application/json"};
    if (!user_token.empty()) h.push_back("Authorization: Bearer " + user_token);
    return http(method, info_url + path, h, body);
  }

  void login() {
    auto r = http("POST", info_url + "/v1/auth/login", {"Content-Type: application/json"},
                  json{{"email", kAdminEmail}, {"password", kAdminPassword}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    user_token = json::parse(r.body).at("token").get<std::string>();
  }

  // Waits until the catalog has the sample file with `want_locations` live locations.
  json wait_manifest(size_t want_locations, std::chrono::milliseconds timeout = 20s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    json last;
    while (std::chrono::steady_clock::now() < end) {
      auto list = api("GET", "/v1/files");
      if (list.status == 200) {
        auto j = json::parse(list.body);
        for (auto& f : j.at("files")) {
          if (f.at("uid") == uid) file_id = f.at("id").get<std::int64_t>();
        }
      }
      if (file_id) {
        auto m = api("GET", "/v1/files/" + std::to_string(file_id));
        if (m.status == 200) {
          last = json::parse(m.body);
          if (last.at("locations").size() == want_locations) return last;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "no manifest with " << want_locations << " locations; last: " << last.dump();
    return last;
  }
};

std::string sha256_of(const std::string& s) {
  auto r = run({"sha256sum"}, s);
  return r.output.substr(0, 64);
}

Cluster* g = nullptr;

class E2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g = new Cluster();
    std::mt19937_64 rng(42);
    g->content.resize(1 << 20);
    for (auto& c : g->content) c = static_cast<char>(rng());
    g->uid = sha256_of(g->content);
    g->start_rabbit();
    if (::testing::Test::HasFatalFailure()) return;
    g->write_info_config(kAdminEmail);
    for (auto [id, zone] : {std::pair{"fs-a1", "zone-a"}, std::pair{"fs-b1", "zone-b"}}) {
      write_file(g->add_file_server(id, zone, 65536).root() + "/sample.bin", g->content);
    }
    g->start_info(kAdminPassword);
    for (auto& f : g->fs) g->start_fs(f);
    g->login();
  }
  static void TearDownTestSuite() {
    if (!g) return;
    g->stop_all();
    delete g;
    g = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(g, nullptr);
    ASSERT_FALSE(g->user_token.empty()) << "cluster did not come up";
  }
};

HttpReply fetch(const std::string& url, const std::string& uid, const std::string& token,
                const std::string& range = "bytes=0-0") {
  return http("GET", url + "/v1/content/" + uid,
              {"Authorization: Bearer " + token, "Range: " + range});
}

TEST_F(E2E, IssueThenDownloadImmediately1000TimesNo403) {
  auto m = g->wait_manifest(2);
  ASSERT_EQ(m.at("uid"), g->uid);
  int denied = 0, other = 0;
  for (int i = 0; i < 1000; ++i) {
    auto r = g->api("GET", "/v1/files/" + std::to_string(g->file_id));
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = json::parse(r.body);
    auto token = j.at("download_token").get<std::string>();
    // Alternate servers so both learn every token through their own queue.
    const auto& url = g->fs[i % 2].content_url;
    auto c = fetch(url, g->uid, token, "bytes=" + std::to_string(i) + "-" + std::to_string(i));
    if (c.status == 403)
      ++denied;
    else if (c.status != 206)
      ++other;
    else
      ASSERT_EQ(c.body, g->content.substr(i, 1));
  }
  EXPECT_EQ(denied, 0);
  EXPECT_EQ(other, 0);
}

TEST_F(E2E, TokensIssuedWhileFileServerDownAreAcceptedAfterRestart) {
  g->wait_manifest(2);
  auto& f = g->fs[1];
  f.proc->signal(SIGTERM);
  ASSERT_EQ(f.proc->wait(15s), 0) << f.proc->log();
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i) {
    auto r = g->api("GET", "/v1/files/" + std::to_string(g->file_id));
    ASSERT_EQ(r.status, 200) << r.body;
    tokens.push_back(json::parse(r.body).at("download_token").get<std::string>());
  }
  g->start_fs(f);
  for (auto& t : tokens) {
    auto c = fetch(f.content_url, g->uid, t);
    EXPECT_EQ(c.status, 206) << c.body;
  }
}

TEST_F(E2E, KilledFileServerLeavesManifestsAndComesBack) {
  g->wait_manifest(2);
  auto& f = g->fs[1];
  f.proc->signal(SIGKILL);
  f.proc->wait(5s);
  auto m = g->wait_manifest(1, 10s);  // heartbeat timeout is 1.5 s
  ASSERT_EQ(m.at("locations").size(), 1u);
  EXPECT_EQ(m.at("locations")[0].at("server_id"), "fs-a1");
  g->start_fs(f);
  m = g->wait_manifest(2, 15s);
  EXPECT_EQ(m.at("locations").size(), 2u);
}

TEST_F(E2E, ZoneOrdersLocations) {
  g->wait_manifest(2);
  auto r = g->api("GET", "/v1/files/" + std::to_string(g->file_id) + "?zone=zone-b");
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  ASSERT_EQ(j.at("locations").size(), 2u);
  EXPECT_EQ(j.at("locations")[0].at("zone"), "zone-b");
}

// "messages messages_unacknowledged" of a queue on the cluster's broker ("" when it is absent).
std::string queue_counts(const std::string& queue) {
  auto r = run({source_dir() + "/scripts/rabbitmq", "ctl", g->rabbit_dir(), "list_queues",
                "--no-table-headers", "name", "messages", "messages_unacknowledged"});
  std::istringstream lines(r.output);
  for (std::string name, ready, unacked; lines >> name >> ready >> unacked;) {
    if (name == queue) return ready + " " + unacked;
  }
  return "";
}

// True once a freshly issued token is served by file server `i` (bounded by `timeout`).
bool fresh_token_served(std::size_t i, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    auto m = g->api("GET", "/v1/files/" + std::to_string(g->file_id));
    if (m.status == 200) {
      auto t = json::parse(m.body).at("download_token").get<std::string>();
      if (fetch(g->fs[i].content_url, g->uid, t).status == 206) return true;
    }
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

// Issue 11 #2 and #3 on real hosts: malformed token.issued events are rejected once by every file
// server (their queues end empty), and a deleted per-server queue is declared again.
TEST_F(E2E, MalformedTokenEventsAndADeletedQueueDoNotStopTokens) {
  g->wait_manifest(2);
  auto opts = g->broker_options("e2e-garbage-publisher");
  FakeHost host(std::map<std::string, ConfigValue>(opts.begin(), opts.end()), "broker-rabbitmq");
  auto publisher = load_plugin("broker-rabbitmq", host);
  ASSERT_TRUE(publisher.ok()) << publisher.status().to_string();
  auto* broker = publisher->as<dfd::Broker>();
  const std::string secret = "E2E-SECRET-IN-BODY";
  for (const std::string& garbage :
       {R"({"v":1,"token_hash":"NOT-A-HASH","scope":")" + g->uid +
            R"(","user_id":1,"expires_at":4000000000,"x":")" + secret + "\"}",
        "not json " + secret, std::string(R"({"v":2})")}) {
    ASSERT_TRUE(broker->publish("token.issued", garbage, 2s).ok());
  }
  auto m = g->api("GET", "/v1/files/" + std::to_string(g->file_id));
  ASSERT_EQ(m.status, 200) << m.body;
  auto token = json::parse(m.body).at("download_token").get<std::string>();
  for (auto& f : g->fs) EXPECT_EQ(fetch(f.content_url, g->uid, token).status, 206) << f.id;
  for (auto& f : g->fs) {
    bool empty = false;
    for (int i = 0; i < 50 && !empty; ++i) {
      empty = queue_counts(f.id) == "0 0";
      if (!empty) std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(empty) << f.id << ": " << queue_counts(f.id) << " (malformed events requeued?)";
    EXPECT_EQ(f.proc->log().find(secret), std::string::npos) << f.id;
  }

  auto del = run(
      {source_dir() + "/scripts/rabbitmq", "ctl", g->rabbit_dir(), "delete_queue", g->fs[0].id});
  ASSERT_EQ(del.status, 0) << del.output;
  // Tokens issued before the queue is back are lost for that server; a later one must work.
  EXPECT_TRUE(fresh_token_served(0, 15s)) << g->fs[0].proc->log();
  EXPECT_EQ(queue_counts(g->fs[0].id), "0 0");
  auto metrics = http("GET", g->fs[0].control + "/metrics");
  if (metrics.status == 200) {  // (a detailed report may need an admin token)
    EXPECT_NE(metrics.body.find("dfd_broker_consumer_cancels_total 1"), std::string::npos);
  }
}

// Last: it restarts the broker under the running servers.
TEST_F(E2E, ZZBrokerRestartRecoversWithoutRestartingHosts) {
  g->wait_manifest(2);
  auto stop = run({source_dir() + "/scripts/rabbitmq", "stop", g->rabbit_dir()});
  ASSERT_EQ(stop.status, 0) << stop.output;
  // While the broker is down: 503 with a JSON error and never a token.
  auto r = g->api("GET", "/v1/files/" + std::to_string(g->file_id));
  EXPECT_EQ(r.status, 503) << r.body;
  auto j = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.body;
  EXPECT_TRUE(j.contains("error"));
  EXPECT_FALSE(j.contains("download_token"));
  // `restart` of a stopped broker starts it again with the same ports, name and data.
  auto start = run({source_dir() + "/scripts/rabbitmq", "restart", g->rabbit_dir()});
  ASSERT_EQ(start.status, 0) << start.output;
  auto back = std::chrono::steady_clock::now();
  bool ok = false;
  while (std::chrono::steady_clock::now() - back < 10s && !ok) {
    auto m = g->api("GET", "/v1/files/" + std::to_string(g->file_id));
    if (m.status == 200) {
      auto mj = json::parse(m.body);
      auto t = mj.at("download_token").get<std::string>();
      ok = fetch(g->fs[0].content_url, g->uid, t).status == 206 &&
           fetch(g->fs[1].content_url, g->uid, t).status == 206;
    }
    if (!ok) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(ok) << "issuance and download did not recover within 10 s of the broker being back";
  EXPECT_TRUE(g->info->running());
  for (auto& f : g->fs) EXPECT_TRUE(f.proc->running());
}

}  // namespace
