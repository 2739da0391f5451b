// The info API over real HTTP: a real dfd-host process (all in one: info-sqlite, auth-sqlite,
// broker-local, and the [content] role with storage-fs) on loopback. Checks what only the real
// host can show: headers (WWW-Authenticate, Retry-After, Cache-Control) reach the client, the
// catalog fills from the content role's events, and a manifest's token opens the data plane.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "aio_host.hpp"
#include "dfd/events.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(InfoHttp, AllInOneHostServesTheApi) {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "line " + std::to_string(i) + "\n";
  AioHost aio(content, "login_max_failures = 3\n");
  Process& host = *aio.host;
  const std::string& base = aio.base;
  const std::string& data = aio.data;
  ASSERT_TRUE(aio.ready) << host.log();

  // No token → 401 with WWW-Authenticate.
  auto r = http("GET", base + "/v1/files");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "unauthenticated");

  auto login = [&](const std::string& email, const std::string& pw) {
    return aio.login(email, pw);
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
