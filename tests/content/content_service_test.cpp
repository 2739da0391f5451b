// ContentService: [content] options parsing, and the whole file-server role over real plugins
// (storage-fs, digest-openssl, auth-sqlite, broker-local) loaded from build/plugins: indexing,
// file.available/file.removed/server.heartbeat events, token.issued/token.revoked consumption and
// downloads over loopback HTTP.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "content/content_service.hpp"
#include "content_doubles.hpp"
#include "dfd/events.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

Result<host::ContentOptions> parse(const std::string& text) {
  toml::table t = toml::parse(std::string_view(text), std::string_view("cfg.toml"));
  return host::parse_content_options(*t["content"].as_table(), "cfg.toml");
}

TEST(ContentOptions, DefaultsAndValues) {
  auto o = parse("[content]\n");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->threads, 2);
  EXPECT_EQ(o->token_wait_ms, 2000);
  EXPECT_EQ(o->max_ranges, 16);
  EXPECT_EQ(o->rescan_interval_s, 60);  // issue 14: new files show up within a minute
  EXPECT_EQ(o->public_url, "");         // the bound address (content_service.hpp)
  EXPECT_TRUE(parse("[content]\nrescan_interval_s = 0\n").ok());  // 0 = at start and SIGHUP only
  o = parse(
      "[content]\nlisten = \"127.0.0.1:9101\"\npublic_url = \"http://h:9101/\"\nthreads = 4\n"
      "chunk_size = 1048576\ndigest = \"sha512\"\nindex_db = \"/x/i.db\"\ntoken_wait_ms = 10\n"
      "rescan_interval_s = 5\nheartbeat_interval_ms = 500\nidle_timeout_s = 7\n"
      "send_timeout_s = 8\nmax_ranges = 3\n");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->listen, "127.0.0.1:9101");
  EXPECT_EQ(o->public_url, "http://h:9101");
  EXPECT_EQ(o->threads, 4);
  EXPECT_EQ(o->chunk_size, 1048576u);
  EXPECT_EQ(o->digest, "sha512");
  EXPECT_EQ(o->index_db, "/x/i.db");
  EXPECT_EQ(o->token_wait_ms, 10);
  EXPECT_EQ(o->rescan_interval_s, 5);
  EXPECT_EQ(o->heartbeat_interval_ms, 500);
  EXPECT_EQ(o->idle_timeout_s, 7);
  EXPECT_EQ(o->send_timeout_s, 8);
  EXPECT_EQ(o->max_ranges, 3);
}

TEST(ContentOptions, Limits) {
  auto o = parse("[content]\n");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->header_timeout_s, 10);
  EXPECT_EQ(o->max_connections, 0);
  EXPECT_EQ(o->max_connections_per_address, 1024);
  EXPECT_EQ(o->max_parked, 1024);
  EXPECT_EQ(o->max_parked_per_address, 256);
  o = parse(
      "[content]\nheader_timeout_s = 5\nmax_connections = 500\nmax_connections_per_address = 50\n"
      "max_parked = 100\nmax_parked_per_address = 10\n");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->header_timeout_s, 5);
  EXPECT_EQ(o->max_connections, 500);
  EXPECT_EQ(o->max_connections_per_address, 50);
  EXPECT_EQ(o->max_parked, 100);
  EXPECT_EQ(o->max_parked_per_address, 10);
  for (std::string bad :
       {"header_timeout_s = 0", "max_connections = -1", "max_connections_per_address = 0",
        "max_parked = 0", "max_parked_per_address = 0"}) {
    EXPECT_FALSE(parse("[content]\n" + bad + "\n").ok()) << bad;
  }
}

TEST(ContentOptions, ErrorsNameFileLineAndKey) {
  auto o = parse("[content]\nlisten = \"127.0.0.1:1\"\nthreads = \"four\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            "cfg.toml:3: [content] key 'threads': expected an integer, got a string");
  o = parse("[content]\n\nthread = 4\n");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(),
            "cfg.toml:3: [content] unknown key 'thread' (did you mean 'threads'?)");
  o = parse("[content]\nmax_ranges = 0\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("cfg.toml:2: [content] key 'max_ranges': 0 is out of range"),
            std::string::npos);
  o = parse("[content]\nlisten = \"nowhere\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("key 'listen'"), std::string::npos);
  o = parse("[content]\npublic_url = \"ftp://x\"\n");
  EXPECT_FALSE(o.ok());
  // Issue 14: a host name passed the old HOST:PORT test and failed only when the data plane bound.
  o = parse("[content]\nlisten = \"fs-a1:9101\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("cfg.toml:2: [content] key 'listen': 'fs-a1:9101': the host "
                                      "must be a numeric IPv4 or [IPv6] address"),
            std::string::npos)
      << o.status().message();
  EXPECT_TRUE(parse("[content]\nlisten = \"[::1]:0\"\n").ok());
  EXPECT_FALSE(parse("[content]\nlisten = \"127.0.0.1:70000\"\n").ok());
}

// Collects events published on the broker.
struct EventLog {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> events;
  int count(const std::string& key, const std::string& contains = "") {
    std::lock_guard<std::mutex> g(mu);
    int n = 0;
    for (auto& [k, b] : events) {
      if (k == key && b.find(contains) != std::string::npos) ++n;
    }
    return n;
  }
  bool wait_for(const std::string& key, const std::string& contains, int n = 1,
                std::chrono::milliseconds timeout = 5s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (count(key, contains) >= n) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

class ContentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::mkdir(dir_.file("root").c_str(), 0755);
    ::mkdir(dir_.file("root/sub").c_str(), 0755);
    ::mkdir(dir_.file("state").c_str(), 0755);
    content_ = std::string(300000, '\0');
    for (std::size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>(i * 7 + 3);
    write_file(dir_.file("root/a.bin"), content_);
    write_file(dir_.file("root/sub/b.txt"), "hello\n");
    uid_ = sha256_hex(content_);
    ASSERT_EQ(::symlink("/etc/hostname", dir_.file("root/evil").c_str()), 0);

    storage_host_ = std::make_unique<FakeHost>(
        std::map<std::string, ConfigValue>{{"root", dir_.file("root")},
                                           {"settle_ms", std::int64_t{0}}},
        "storage-fs");
    digest_host_ =
        std::make_unique<FakeHost>(std::map<std::string, ConfigValue>{}, "digest-openssl");
    auth_host_ = std::make_unique<FakeHost>(
        std::map<std::string, ConfigValue>{{"db", dir_.file("state/tokens.db")},
                                           {"kdf_iterations", std::int64_t{1000}}},
        "auth-sqlite");
    info_auth_host_ = std::make_unique<FakeHost>(
        std::map<std::string, ConfigValue>{{"db", dir_.file("state/info-tokens.db")},
                                           {"kdf_iterations", std::int64_t{1000}}},
        "auth-sqlite");
    broker_host_ = std::make_unique<FakeHost>(std::map<std::string, ConfigValue>{}, "broker-local");
    auto load = [](const char* name, FakeHost& h, LoadedPlugin& out) {
      auto p = load_plugin(name, h);
      ASSERT_TRUE(p.ok()) << name << ": " << p.status().to_string();
      out = std::move(p.value());
    };
    load("storage-fs", *storage_host_, storage_);
    load("digest-openssl", *digest_host_, digest_);
    load("auth-sqlite", *auth_host_, auth_);
    load("auth-sqlite", *info_auth_host_, info_auth_);
    load("broker-local", *broker_host_, broker_);
    ASSERT_TRUE(broker_.as<Broker>()
                    ->subscribe({"file.#", "server.#"},
                                [this](std::string_view k, std::string_view b) {
                                  std::lock_guard<std::mutex> g(events_.mu);
                                  events_.events.emplace_back(std::string(k), std::string(b));
                                  return Status::Ok();
                                })
                    .ok());
    identity_ = ServerIdentity{"fs-t1", "zone-t", "", dir_.file("state")};
  }
  void TearDown() override {
    if (service_) service_->stop(500);
    service_.reset();
  }

  void start(host::ContentOptions o = {}) {
    o.listen = "127.0.0.1:0";
    host::ContentContext ctx{
        host_.logger(),          host_.metrics(),   host_.clock(),         identity_,
        *storage_.as<Storage>(), *auth_.as<Auth>(), *digest_.as<Digest>(), broker_.as<Broker>()};
    service_ = std::make_unique<host::ContentService>(ctx, o);
    Status s = service_->start();
    ASSERT_TRUE(s.ok()) << s.to_string() << "\n" << host_.log_text();
    url_ = service_->public_url();
  }

  // A token issued on the "info side" and (optionally) published as token.issued.
  std::string issue(const std::string& scope, bool publish = true) {
    DownloadTokenRecord rec;
    auto t = info_auth_.as<Auth>()->issue_download_token(scope, 1, std::chrono::seconds(600), &rec);
    EXPECT_TRUE(t.ok());
    if (publish) {
      EXPECT_TRUE(broker_.as<Broker>()
                      ->publish(events::kTokenIssued, events::encode_token_issued(rec), 1s)
                      .ok());
    }
    return t->token;
  }

  TempDir dir_;
  FakeHost host_;
  std::unique_ptr<FakeHost> storage_host_, digest_host_, auth_host_, info_auth_host_, broker_host_;
  LoadedPlugin storage_, digest_, auth_, info_auth_, broker_;
  ServerIdentity identity_;
  EventLog events_;
  std::unique_ptr<host::ContentService> service_;
  std::string content_, uid_, url_;
};

// Issue 14: a digest the plugin does not offer is refused before anything starts (the host runs
// this in --check and before every start), naming file, line and key.
TEST_F(ContentServiceTest, DigestTheDigestPluginLacksIsRefusedWithFileLineAndKey) {
  toml::table t = toml::parse(std::string_view("[content]\nthreads = 2\ndigest = \"md5\"\n"),
                              std::string_view("cfg.toml"));
  const toml::table& content = *t["content"].as_table();
  auto o = host::parse_content_options(content, "cfg.toml");
  ASSERT_TRUE(o.ok()) << o.status().to_string();  // the table itself is well-formed
  Status st =
      host::check_content_digest(*o, *digest_.as<Digest>(), "digest-openssl", content, "cfg.toml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("cfg.toml:3: [content] key 'digest': 'md5' is not offered by "
                               "digest-openssl (it offers sha256",
                               0),
            0u)
      << st.message();
  o->digest = "SHA512";  // names are compared without case, as digest-openssl does
  EXPECT_TRUE(
      host::check_content_digest(*o, *digest_.as<Digest>(), "digest-openssl", content, "cfg.toml")
          .ok());
}

TEST_F(ContentServiceTest, ServesIndexedFilesWithTokensFromEvents) {
  host::ContentOptions o;
  o.token_wait_ms = 3000;
  start(o);
  EXPECT_EQ(url_, "http://" + service_->bound_address());
  EXPECT_TRUE(service_->health().healthy) << service_->health().detail;
  EXPECT_EQ(host_.metric("dfd_content_files"), 2);
  ASSERT_TRUE(events_.wait_for("file.available.fs-t1", uid_));
  EXPECT_TRUE(events_.wait_for("file.available.fs-t1", sha256_hex("hello\n")));
  ASSERT_TRUE(events_.wait_for("server.heartbeat.fs-t1", "fs-t1"));
  {
    std::lock_guard<std::mutex> g(events_.mu);
    for (auto& [k, b] : events_.events) {
      if (k != "file.available" || b.find(uid_) == std::string::npos) continue;
      auto fa = events::decode_file_available(b);
      ASSERT_TRUE(fa.ok());
      EXPECT_EQ(fa->server_id, "fs-t1");
      EXPECT_EQ(fa->zone, "zone-t");
      EXPECT_EQ(fa->url, url_);
      EXPECT_EQ(fa->name, "a.bin");
      EXPECT_EQ(fa->size, content_.size());
      EXPECT_EQ(fa->alg, "sha256");
      EXPECT_EQ(fa->chunks.size(), 1u);
    }
  }

  // The token is published now; the request may arrive before the event is applied: it waits.
  std::string tok = issue(uid_);
  auto r = http("GET", url_ + "/v1/content/" + uid_,
                {"Authorization: Bearer " + tok, "Range: bytes=10-19"});
  ASSERT_EQ(r.status, 206) << r.body;
  EXPECT_EQ(r.body, content_.substr(10, 10));
  EXPECT_EQ(r.headers["content-disposition"], "attachment; filename=\"a.bin\"");
  r = http("GET", url_ + "/v1/content/" + uid_, {"Authorization: Bearer " + tok});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, content_);

  // A token for another file → 403; no token → 401; the symlink out of the root is not served.
  std::string other = issue(sha256_hex("hello\n"));
  EXPECT_EQ(http("GET", url_ + "/v1/content/" + uid_, {"Authorization: Bearer " + other}).status,
            403);
  EXPECT_EQ(http("GET", url_ + "/v1/content/" + uid_).status, 401);
  // (403 with another file's token: the token is checked before the index is asked.)
  std::string outside = sha256_hex(read_file("/etc/hostname"));
  EXPECT_EQ(http("GET", url_ + "/v1/content/" + outside, {"Authorization: Bearer " + tok}).status,
            403);
  EXPECT_EQ(
      http("GET", url_ + "/v1/content/" + outside, {"Authorization: Bearer " + issue(outside)})
          .status,
      404);

  // Revocation through the broker.
  ASSERT_TRUE(
      broker_.as<Broker>()
          ->publish(events::kTokenRevoked, events::encode_token_revoked(sha256_hex(tok)), 1s)
          .ok());
  bool denied = false;
  for (int i = 0; i < 100 && !denied; ++i) {
    denied =
        http("GET", url_ + "/v1/content/" + uid_, {"Authorization: Bearer " + tok}).status == 403;
    if (!denied) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(denied);
  EXPECT_TRUE(service_->health().healthy);
}

TEST_F(ContentServiceTest, UnpublishedTokenIsRefusedAfterTheWait) {
  host::ContentOptions o;
  o.token_wait_ms = 300;
  start(o);
  std::string tok = issue(uid_, /*publish=*/false);
  auto t0 = std::chrono::steady_clock::now();
  auto r = http("GET", url_ + "/v1/content/" + uid_, {"Authorization: Bearer " + tok});
  EXPECT_EQ(r.status, 403);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 280ms);
}

// The info server groups tokens into one token.issued event: every record of a batch is
// remembered; a malformed record is logged and skipped without losing the others.
TEST_F(ContentServiceTest, TokensFromABatchEventAndMalformedRecordsSkipped) {
  host::ContentOptions o;
  o.token_wait_ms = 3000;
  start(o);
  std::vector<std::string> tokens;
  std::vector<DownloadTokenRecord> recs;
  for (int i = 0; i < 3; ++i) {
    DownloadTokenRecord rec;
    auto t = info_auth_.as<Auth>()->issue_download_token(uid_, 1, std::chrono::seconds(600), &rec);
    ASSERT_TRUE(t.ok());
    tokens.push_back(t->token);
    recs.push_back(rec);
  }
  std::string body = events::encode_token_issued_batch(recs);
  auto at = body.find("\"tokens\":[");
  ASSERT_NE(at, std::string::npos) << body;
  body.insert(at + 10, R"({"token_hash":"bad-record"},)");
  ASSERT_TRUE(broker_.as<Broker>()->publish(events::kTokenIssued, body, 1s).ok());
  for (const auto& tok : tokens) {
    auto r = http("GET", url_ + "/v1/content/" + uid_,
                  {"Authorization: Bearer " + tok, "Range: bytes=0-0"});
    EXPECT_EQ(r.status, 206) << r.body;
  }
  EXPECT_NE(host_.log_text().find("malformed record(s) of a token.issued event"), std::string::npos)
      << host_.log_text();
}

// Issue 14: without SIGHUP, a file copied in after the start is found by the periodic rescan
// (rescan_interval_s; default 60, 1 here), and one removed is withdrawn.
TEST_F(ContentServiceTest, PeriodicRescanPicksUpFilesWithoutASignal) {
  host::ContentOptions o;
  o.rescan_interval_s = 1;
  start(o);
  ASSERT_TRUE(events_.wait_for("file.available.fs-t1", uid_));
  std::string added = "copied in after the start\n";
  write_file(dir_.file("root/later.txt"), added);
  ::unlink(dir_.file("root/sub/b.txt").c_str());
  EXPECT_TRUE(events_.wait_for("file.available.fs-t1", sha256_hex(added), 1, 10s));
  EXPECT_TRUE(events_.wait_for("file.removed.fs-t1", sha256_hex("hello\n"), 1, 10s));
}

TEST_F(ContentServiceTest, RescanPublishesChangesAndHeartbeatsRepublish) {
  host::ContentOptions o;
  o.heartbeat_interval_ms = 50;
  start(o);
  ASSERT_TRUE(events_.wait_for("file.available.fs-t1", uid_));
  // Every 15th heartbeat re-publishes every file.
  EXPECT_TRUE(events_.wait_for("file.available.fs-t1", uid_, 2, 5s));
  EXPECT_GE(events_.count("server.heartbeat.fs-t1"), 15);

  std::string added = "a new file\n";
  write_file(dir_.file("root/new.txt"), added);
  ::unlink(dir_.file("root/sub/b.txt").c_str());
  service_->rescan();
  EXPECT_TRUE(events_.wait_for("file.available.fs-t1", sha256_hex(added)));
  EXPECT_TRUE(events_.wait_for("file.removed.fs-t1", sha256_hex("hello\n")));
  std::string tok = issue(sha256_hex(added));
  auto r = http("GET", url_ + "/v1/content/" + sha256_hex(added), {"Authorization: Bearer " + tok});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, added);
  std::string gone = issue(sha256_hex("hello\n"));
  EXPECT_EQ(
      http("GET", url_ + "/v1/content/" + sha256_hex("hello\n"), {"Authorization: Bearer " + gone})
          .status,
      404);
}

// Issue 14: a rescan ticket (what dfd-host waits for between RELOADING=1 and READY=1 under
// systemd) is finished only once the rescan that began after the request has indexed the storage:
// the new file is served as soon as the ticket says so.
TEST_F(ContentServiceTest, RescanTicketFinishesOnceTheRescanIndexedTheStorage) {
  start();
  ASSERT_TRUE(events_.wait_for("file.available.fs-t1", uid_));
  std::string added(4 << 20, 'q');  // 4 MiB: hashing it takes a moment
  write_file(dir_.file("root/ticket.bin"), added);
  std::string tok = issue(sha256_hex(added));
  std::uint64_t ticket = service_->request_rescan();
  ASSERT_GT(ticket, 0u);
  EXPECT_FALSE(service_->rescan_finished(ticket + 1));  // not asked for yet
  auto end = std::chrono::steady_clock::now() + 10s;
  while (!service_->rescan_finished(ticket) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(service_->rescan_finished(ticket));
  auto r =
      http("HEAD", url_ + "/v1/content/" + sha256_hex(added), {"Authorization: Bearer " + tok});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], std::to_string(added.size()));
  EXPECT_GT(service_->request_rescan(), ticket);
}

// A broker whose publish fails while `down` is set (fault injection for the retry path).
class FlakyBroker : public Broker {
 public:
  Status publish(std::string_view key, std::string_view body,
                 std::chrono::milliseconds) noexcept override {
    if (down.load()) {
      ++failures;
      return Status::Unavailable("flaky: down");
    }
    std::lock_guard<std::mutex> g(log.mu);
    log.events.emplace_back(std::string(key), std::string(body));
    return Status::Ok();
  }
  Status subscribe(std::vector<std::string>, EventHandler) noexcept override {
    return Status::Ok();
  }
  bool connected() const noexcept override { return !down.load(); }
  std::atomic<bool> down{true};
  std::atomic<int> failures{0};
  EventLog log;
};

TEST_F(ContentServiceTest, PublishFailuresAreRetriedNotFatal) {
  FlakyBroker flaky;
  host::ContentOptions o;
  o.listen = "127.0.0.1:0";
  o.heartbeat_interval_ms = 50;
  host::ContentContext ctx{
      host_.logger(),          host_.metrics(),   host_.clock(),         identity_,
      *storage_.as<Storage>(), *auth_.as<Auth>(), *digest_.as<Digest>(), &flaky};
  service_ = std::make_unique<host::ContentService>(ctx, o);
  ASSERT_TRUE(service_->start().ok()) << host_.log_text();
  std::this_thread::sleep_for(300ms);
  EXPECT_GE(flaky.failures.load(), 3);
  EXPECT_TRUE(service_->health().healthy);
  EXPECT_EQ(flaky.log.count("file.available.fs-t1"), 0);
  flaky.down.store(false);
  EXPECT_TRUE(flaky.log.wait_for("file.available.fs-t1", uid_, 1, 3s));
  EXPECT_TRUE(flaky.log.wait_for("file.available.fs-t1", sha256_hex("hello\n"), 1, 3s));
  EXPECT_TRUE(flaky.log.wait_for("server.heartbeat.fs-t1", "fs-t1", 1, 3s));
  service_->stop(100);
  // Logged once when it started failing, once when it recovered.
  std::string log = host_.log_text();
  auto first = log.find("failed (will retry on the next heartbeat)");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(log.find("failed (will retry on the next heartbeat)", first + 1), std::string::npos);
  EXPECT_NE(log.find("publishing works again"), std::string::npos);
}

TEST_F(ContentServiceTest, StopIsPromptAndIdempotent) {
  start();
  auto t0 = std::chrono::steady_clock::now();
  service_->stop(1000);
  service_->stop(1000);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  EXPECT_FALSE(service_->health().healthy);
}

}  // namespace
}  // namespace dfd::test
