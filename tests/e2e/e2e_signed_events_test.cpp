// Issue 12, "Done when" 2, on real processes: a real RabbitMQ, one info server and two file
// servers (dfd-host, events signed with keys from scripts/event-keys, [events] max_age_s = 10).
// An attacker here holds a valid broker login (guest) and publishes whatever bytes it likes:
//   - token.issued unsigned, signed by an untrusted key, with a bad signature, or with the
//     signature of an old event on a new body: every file server refuses it (the token gets 403)
//     and counts it;
//   - a captured, validly signed event published again: refused as replayed (counted), and
//     once it is older than max_age a file server that never saw it refuses it as stale;
//   - file.available / server.heartbeat for a server that is not theirs (an untrusted key, fs-a's
//     key claiming fs-b, fs-a's key with a body naming fs-b, unsigned): never in a manifest.
// Each forgery is followed by a control event signed with the real key, so the test knows the
// forgery was processed (a queue delivers in order) and that its construction is right.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "dfd/broker.hpp"
#include "dfd/event_signing.hpp"
#include "dfd/events.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "real_cluster.hpp"

using json = nlohmann::json;
using namespace dfd::test;
using namespace std::chrono_literals;
namespace ev = dfd::events;

namespace {

const char* kAdminEmail = "admin@signed.test";
const char* kAdminPassword = "signed events are the point";
const std::string kEvilUrl = "http://127.0.0.1:9/evil";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The value of one series ("name{reason=\"x\"}") in a Prometheus text page; 0 when absent.
double scrape(const std::string& control_url, const std::string& series) {
  auto r = http("GET", control_url + "/metrics");
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}
std::string rejected(const std::string& reason) {
  return "dfd_events_rejected_total{reason=\"" + reason + "\"}";
}

class Cluster : public RealCluster {
 public:
  std::string user_token, uid, content;
  std::int64_t file_id = 0;
  std::unique_ptr<FakeHost> attacker_host;
  LoadedPlugin attacker;  // broker-rabbitmq with the guest login, no keys
  dfd::Broker* broker = nullptr;

  HttpReply api(const std::string& method, const std::string& path) {
    return http(method, info_url + path, {"Authorization: Bearer " + user_token});
  }
  json manifest() {
    auto m = api("GET", "/v1/files/" + std::to_string(file_id));
    EXPECT_EQ(m.status, 200) << m.body;
    return json::parse(m.body, nullptr, false);
  }
  ev::Signer key_of(const std::string& id) {
    auto s = ev::Signer::load(keys_dir() + "/" + id + ".key", id);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return std::move(s).value();
  }
  void publish(const std::string& key, const std::string& message) {
    ASSERT_TRUE(broker->publish(key, message, 5s).ok()) << key;
  }
};

Cluster* g = nullptr;

HttpReply fetch(const std::string& url, const std::string& token) {
  return http("GET", url + "/v1/content/" + g->uid,
              {"Authorization: Bearer " + token, "Range: bytes=0-0"});
}

// A fresh random download token for the sample file and its token.issued body.
struct Token {
  std::string token, body;
};
Token new_token() {
  static std::mt19937_64 rng(std::random_device{}());
  Token t;
  t.token = "forged-" + std::to_string(rng()) + "-" + std::to_string(rng());
  dfd::DownloadTokenRecord r;
  r.token_hash = dfd::sha256_hex(t.token);
  r.scope = g->uid;
  r.user_id = 1;
  r.expires_at = dfd::TimePoint(std::chrono::seconds(unix_now() + 3600));
  t.body = ev::encode_token_issued(r);
  return t;
}

// Publishes a token.issued signed with the info server's real key and waits until every file
// server serves it: everything published before it has been processed.
void control_token_everywhere() {
  Token c = new_token();
  auto sealed = g->key_of("info").seal("token.issued", c.body, unix_now());
  ASSERT_TRUE(sealed.ok());
  g->publish("token.issued", *sealed);
  for (auto& f : g->fs) EXPECT_EQ(fetch(f.content_url, c.token).status, 206) << f.id;
}

class SignedEvents : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g = new Cluster();
    g->content = std::string(4096, 'x');
    g->uid = dfd::sha256_hex(g->content);
    g->events_max_age_s = 10;
    g->start_rabbit();
    if (::testing::Test::HasFatalFailure()) return;
    g->write_info_config(kAdminEmail);
    for (auto [id, zone] : {std::pair{"fs-a", "zone-a"}, std::pair{"fs-b", "zone-b"}}) {
      write_file(g->add_file_server(id, zone, 65536).root() + "/sample.bin", g->content);
    }
    g->start_info(kAdminPassword);
    for (auto& f : g->fs) g->start_fs(f);
    auto r = http("POST", g->info_url + "/v1/auth/login", {"Content-Type: application/json"},
                  json{{"email", kAdminEmail}, {"password", kAdminPassword}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    g->user_token = json::parse(r.body).at("token").get<std::string>();
    auto end = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < end) {
      auto list = json::parse(g->api("GET", "/v1/files").body, nullptr, false);
      if (list.is_object() && list.contains("files")) {
        for (auto& f : list["files"]) {
          if (f.at("uid") == g->uid) g->file_id = f.at("id").get<std::int64_t>();
        }
      }
      if (g->file_id && g->manifest().at("locations").size() == 2) break;
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_NE(g->file_id, 0);
    auto opts = g->broker_options("attacker");
    g->attacker_host = std::make_unique<FakeHost>(
        std::map<std::string, ConfigValue>(opts.begin(), opts.end()), "broker-rabbitmq");
    auto p = load_plugin("broker-rabbitmq", *g->attacker_host);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    g->attacker = std::move(p.value());
    g->broker = g->attacker.as<dfd::Broker>();
  }
  static void TearDownTestSuite() {
    if (!g) return;
    g->attacker = LoadedPlugin();
    g->attacker_host.reset();
    g->stop_all();
    delete g;
    g = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(g, nullptr);
    ASSERT_NE(g->broker, nullptr) << "cluster did not come up";
  }
};

TEST_F(SignedEvents, ForgedTokenEventsAreRefusedByEveryFileServer) {
  const std::int64_t now = unix_now();
  auto untrusted_pem = ev::generate_key_pair();
  ASSERT_TRUE(untrusted_pem.ok());
  auto untrusted = *ev::Signer::from_pem(untrusted_pem->private_pem, "info");
  ev::Signer info = g->key_of("info");

  Token unsigned_t = new_token(), untrusted_t = new_token(), bad_sig_t = new_token(),
        old_sig_t = new_token(), old_t = new_token();
  g->publish("token.issued", unsigned_t.body);
  g->publish("token.issued", *untrusted.seal("token.issued", untrusted_t.body, now));
  std::string bad = *info.seal("token.issued", bad_sig_t.body, now);
  std::size_t sig = bad.find('\n') - 1;  // last hex digit of the signature
  bad[sig] = bad[sig] == '0' ? '1' : '0';
  g->publish("token.issued", bad);
  // The header (and signature) of a genuine event, on a body of the attacker's.
  std::string genuine = *info.seal("token.issued", old_t.body, now);
  g->publish("token.issued", genuine.substr(0, genuine.find('\n') + 1) + old_sig_t.body);
  control_token_everywhere();

  for (auto& f : g->fs) {
    for (const Token* t : {&unsigned_t, &untrusted_t, &bad_sig_t, &old_sig_t}) {
      auto r = fetch(f.content_url, t->token);
      EXPECT_TRUE(r.status == 403 || r.status == 401) << f.id << ": " << r.status;
    }
    EXPECT_GE(scrape(f.control, rejected("unsigned")), 1) << f.id;
    EXPECT_GE(scrape(f.control, rejected("unknown_key")), 1) << f.id;
    EXPECT_GE(scrape(f.control, rejected("bad_signature")), 2) << f.id;
    EXPECT_EQ(f.proc->log().find(unsigned_t.token), std::string::npos);
  }
}

TEST_F(SignedEvents, AReplayedEventIsRefusedAndCountedAndAStaleOneToo) {
  // Capture a genuine token.issued from the wire: a queue of our own bound to token.issued.
  auto opts = g->broker_options("spy");
  FakeHost spy_host(std::map<std::string, ConfigValue>(opts.begin(), opts.end()),
                    "broker-rabbitmq");
  auto spy = load_plugin("broker-rabbitmq", spy_host);
  ASSERT_TRUE(spy.ok()) << spy.status().to_string();
  std::mutex mu;
  std::vector<std::string> captured;
  ASSERT_TRUE(spy->as<dfd::Broker>()
                  ->subscribe({"token.issued"},
                              [&](std::string_view, std::string_view message) {
                                std::lock_guard<std::mutex> l(mu);
                                captured.emplace_back(message);
                                return dfd::Status::Ok();
                              })
                  .ok());
  auto m = g->manifest();
  const std::string token = m.at("download_token").get<std::string>();
  for (auto& f : g->fs) EXPECT_EQ(fetch(f.content_url, token).status, 206) << f.id;
  std::string message;
  for (int i = 0; i < 100 && message.empty(); ++i) {
    {
      std::lock_guard<std::mutex> l(mu);
      for (auto& c : captured) {
        if (c.find(dfd::sha256_hex(token)) != std::string::npos) message = c;
      }
    }
    if (message.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(message.empty()) << "the spy saw no token.issued with the manifest's token";
  ASSERT_EQ(message.rfind("dfd-sig1 info ", 0), 0u) << "the info server's events are not signed";

  // The exact bytes again: every file server refuses them as a replay.
  std::vector<double> before;
  for (auto& f : g->fs) before.push_back(scrape(f.control, rejected("replayed")));
  g->publish("token.issued", message);
  control_token_everywhere();
  for (std::size_t i = 0; i < g->fs.size(); ++i) {
    EXPECT_EQ(scrape(g->fs[i].control, rejected("replayed")), before[i] + 1) << g->fs[i].id;
  }

  // Later than max_age (10 s), to a file server that never saw it: refused as stale.
  auto& c = g->add_file_server("fs-c", "zone-c", 65536);
  write_file(c.root() + "/sample.bin", g->content);
  g->start_fs(c);
  std::int64_t signed_at = ev::parse_envelope(message)->ts;
  while (unix_now() <= signed_at + 11) std::this_thread::sleep_for(200ms);
  g->publish("token.issued", message);
  control_token_everywhere();
  auto r = fetch(c.content_url, token);
  EXPECT_TRUE(r.status == 403 || r.status == 401) << r.status << " " << c.proc->log();
  EXPECT_EQ(scrape(c.control, rejected("stale")), 1);
}

TEST_F(SignedEvents, ForgedServerEventsNeverReachAManifest) {
  const std::int64_t now = unix_now();
  ev::Signer fs_a = g->key_of("fs-a");
  auto stranger_pem = ev::generate_key_pair();
  ASSERT_TRUE(stranger_pem.ok());
  auto stranger = *ev::Signer::from_pem(stranger_pem->private_pem, "fs-x");
  auto m = g->manifest();
  ev::FileAvailable f;
  f.zone = "zone-a";
  f.url = kEvilUrl;
  f.uid = g->uid;
  f.name = "sample.bin";
  f.size = g->content.size();
  f.alg = "sha256";
  f.chunk_size = 65536;
  f.chunks = {g->uid};
  auto announce = [&](const ev::Signer* key, const std::string& server,
                      const std::string& body_id) {
    f.server_id = body_id;
    ev::Heartbeat h{body_id, "zone-a", kEvilUrl, 2000, 1};
    std::string fa = dfd::events::server_routing_key(ev::kFileAvailable, server);
    std::string hb = dfd::events::server_routing_key(ev::kServerHeartbeat, server);
    std::string fa_body = ev::encode_file_available(f), hb_body = ev::encode_heartbeat(h);
    g->publish(fa, key ? *key->seal(fa, fa_body, now) : fa_body);
    g->publish(hb, key ? *key->seal(hb, hb_body, now) : hb_body);
  };
  std::map<std::string, double> before;
  for (auto reason : {"unsigned", "unknown_key", "wrong_sender"}) {
    before[reason] = scrape(g->info_url, rejected(reason));
  }
  double invalid_before = scrape(g->info_url, "dfd_info_events_rejected_total");
  announce(nullptr, "fs-evil", "fs-evil");  // unsigned
  announce(&stranger, "fs-x", "fs-x");      // a key nobody enrolled
  announce(&fs_a, "fs-b", "fs-b");          // fs-a's key speaking for fs-b
  announce(&fs_a, "fs-a", "fs-b");          // fs-a's key, fs-a's key, a body naming fs-b

  // Control: fs-a's real key announcing a file of fs-a's own (the info queue is in order).
  ev::FileAvailable control = f;
  control.server_id = "fs-a";
  control.url = g->fs[0].content_url;
  control.uid = dfd::sha256_hex("control");
  control.name = "control.bin";
  control.size = 7;
  control.chunks = {control.uid};
  std::string key = dfd::events::server_routing_key(ev::kFileAvailable, "fs-a");
  g->publish(key, *fs_a.seal(key, ev::encode_file_available(control), now));
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    seen = g->api("GET", "/v1/files").body.find(control.uid) != std::string::npos;
    if (!seen) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(seen) << "the control event never reached the catalog";

  m = g->manifest();
  EXPECT_EQ(m.dump().find(kEvilUrl), std::string::npos) << m.dump();
  EXPECT_GE(m.at("locations").size(), 2u) << m.dump();
  for (auto& l : m.at("locations")) {
    const std::string id = l.at("server_id").get<std::string>();
    bool ours = false;
    for (auto& s : g->fs) ours = ours || s.id == id;
    EXPECT_TRUE(ours) << id;
  }
  auto servers = g->api("GET", "/v1/servers");
  EXPECT_EQ(servers.body.find(kEvilUrl), std::string::npos) << servers.body;
  EXPECT_GE(scrape(g->info_url, rejected("unsigned")), before["unsigned"] + 2);
  EXPECT_GE(scrape(g->info_url, rejected("unknown_key")), before["unknown_key"] + 2);
  EXPECT_GE(scrape(g->info_url, rejected("wrong_sender")), before["wrong_sender"] + 2);
  EXPECT_GE(scrape(g->info_url, "dfd_info_events_rejected_total"), invalid_before + 2);
}

}  // namespace
