// The info API over real HTTP: a real dfd-host process (all in one: info-sqlite, auth-sqlite,
// broker-local, and the [content] role with storage-fs) on loopback. Checks what only the real
// host can show: headers (WWW-Authenticate, Retry-After, Cache-Control) reach the client, the
// catalog fills from the content role's events, and a manifest's token opens the data plane.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "dfd/events.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(InfoHttp, AllInOneHostServesTheApi) {
  TempDir dir;
  int cp = free_port();
  int dp = free_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(cp);
  const std::string data = "http://127.0.0.1:" + std::to_string(dp);
  run({"mkdir", "-p", dir.file("files"), dir.file("state")});
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "line " + std::to_string(i) + "\n";
  write_file(dir.file("files/hello.txt"), content);
  write_file(dir.file("admin-pw"), "admin-password-1\n");
  const std::string config = dir.file("aio.toml");
  write_file(config, R"([server]
id = "aio-1"
zone = "zone-a"
listen = "127.0.0.1:)" + std::to_string(cp) +
                         R"("
threads = 4
state_dir = ")" + dir.file("state") +
                         R"("
shutdown_grace_ms = 2000

[content]
listen = "127.0.0.1:)" + std::to_string(dp) +
                         R"("
public_url = ")" + data + R"("
chunk_size = 65536
heartbeat_interval_ms = 500
token_wait_ms = 2000

[[plugin]]
name = "digest-openssl"

[[plugin]]
name = "storage-fs"
root = ")" + dir.file("files") +
                         R"("
settle_ms = 0

[[plugin]]
name = "auth-sqlite"
db = ")" + dir.file("state/auth.db") +
                         R"("
kdf_iterations = 1000

[[plugin]]
name = "broker-local"

[[plugin]]
name = "info-sqlite"
db = ")" + dir.file("state/catalog.db") +
                         R"("
admin_email = "admin@example.com"
admin_password_file = ")" +
                         dir.file("admin-pw") + R"("
login_max_failures = 3
heartbeat_timeout_ms = 3000
)");
  Process host({bin("dfd-host"), "--config", config}, {}, dir.file("host.log"));
  ASSERT_TRUE(wait_http(base + "/healthz", 200, 30s)) << host.log();

  // No token → 401 with WWW-Authenticate.
  auto r = http("GET", base + "/v1/files");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "unauthenticated");

  auto login = [&](const std::string& email, const std::string& pw) {
    return http("POST", base + "/v1/auth/login", {"Content-Type: application/json"},
                json{{"email", email}, {"password", pw}}.dump());
  };
  r = login("admin@example.com", "admin-password-1");
  ASSERT_EQ(r.status, 200) << r.body << host.log();
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  const std::string token = json::parse(r.body)["token"];
  const std::string auth = "Authorization: Bearer " + token;

  // The content role announces hello.txt through broker-local; the catalog picks it up.
  json files;
  auto end = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < end) {
    r = http("GET", base + "/v1/files?limit=10", {auth});
    ASSERT_EQ(r.status, 200) << r.body;
    files = json::parse(r.body);
    if (files["total"] == 1 && files["files"][0]["available"] == true) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(files["total"], 1) << files.dump() << host.log();
  EXPECT_EQ(files["files"][0]["name"], "hello.txt");
  EXPECT_EQ(files["files"][0]["size"], content.size());
  EXPECT_EQ(files["files"][0]["uid"], sha256_hex(content));
  const std::string id = std::to_string(files["files"][0]["id"].get<int>());

  EXPECT_EQ(http("GET", base + "/v1/files?limit=0", {auth}).status, 400);
  EXPECT_EQ(http("GET", base + "/v1/files/999", {auth}).status, 404);

  r = http("GET", base + "/v1/files/" + id + "?zone=zone-a", {auth});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  json m = json::parse(r.body);
  ASSERT_EQ(m["locations"].size(), 1u);
  EXPECT_EQ(m["locations"][0]["server_id"], "aio-1");
  EXPECT_EQ(m["locations"][0]["url"], data);
  EXPECT_EQ(m["chunk_size"], 65536);
  EXPECT_EQ(m["chunks"].size(), (content.size() + 65535) / 65536);

  // The download token opens the data plane (learned through the token.issued event).
  auto bytes = http(
      "GET", data + "/v1/content/" + m["uid"].get<std::string>(),
      {"Authorization: Bearer " + m["download_token"].get<std::string>(), "Range: bytes=0-99"});
  EXPECT_EQ(bytes.status, 206) << bytes.body;
  EXPECT_EQ(bytes.body, content.substr(0, 100));

  // Users and servers.
  r = http(
      "POST", base + "/v1/users", {auth, "Content-Type: application/json"},
      json{{"email", "bob@example.com"}, {"name", "Bob"}, {"password", "bob-password"}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  r = http("GET", base + "/v1/servers", {auth});
  ASSERT_EQ(r.status, 200) << r.body;
  json servers = json::parse(r.body)["servers"];
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0]["healthy"], true);

  r = http("GET", base + "/metrics");
  EXPECT_NE(r.body.find("dfd_info_tokens_issued_total"), std::string::npos);

  r = http("POST", base + "/v1/auth/logout", {auth});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(http("GET", base + "/v1/files", {auth}).status, 401);

  // Rate limit (last: every request here comes from 127.0.0.1).
  for (int i = 0; i < 3; ++i) EXPECT_EQ(login("bob@example.com", "wrong").status, 401);
  r = login("bob@example.com", "bob-password");
  EXPECT_EQ(r.status, 429) << r.body;
  int retry = std::atoi(r.headers["retry-after"].c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 300);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "rate_limited");

  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(15s), 0) << host.log();
}

}  // namespace
}  // namespace dfd::test
