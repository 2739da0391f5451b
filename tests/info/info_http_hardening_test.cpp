// Issue 11 over real HTTP, on a real all-in-one dfd-host: login throttling is atomic and keyed
// by (account, address) and address (#6), logout and the admin routes revoke download tokens
// on the data plane (#15), the audit log records it all without a secret, and manifests are
// rate-limited per user.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "aio_host.hpp"
#include "dfd/events.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kAdmin = kAioAdmin;
constexpr const char* kAdminPw = kAioAdminPw;

HttpReply add_user(const AioHost& aio, const std::string& admin, const std::string& email,
                   const std::string& pw) {
  return http("POST", aio.base + "/v1/users",
              {"Authorization: Bearer " + admin, "Content-Type: application/json"},
              json{{"email", email}, {"name", email.substr(0, 3)}, {"password", pw}}.dump());
}

TEST(InfoHttpHardening, ParallelWrongLoginsTestAtMostTheLimitAndSpareOtherAccounts) {
  // A slower KDF widens the window a check-then-act limiter leaves open.
  AioHost aio("hello\n", "login_max_failures = 5\n", "kdf_iterations = 20000\n");
  ASSERT_TRUE(aio.ready) << aio.host->log();
  const std::string admin = token_of(aio.login(kAdmin, kAdminPw));
  ASSERT_FALSE(admin.empty());
  for (const char* who : {"bob", "alice", "carol"}) {
    ASSERT_EQ(
        add_user(aio, admin, std::string(who) + "@example.com", std::string(who) + "-password")
            .status,
        201);
  }

  // 200 wrong passwords for bob at once, all from 127.0.0.1.
  std::atomic<int> tested{0}, limited{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        long st = aio.login("bob@example.com", "not-bobs-password").status;
        (st == 401 ? tested : st == 429 ? limited : other)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(tested.load(), 5) << "passwords actually tested";
  EXPECT_EQ(limited.load(), 195);
  EXPECT_EQ(other.load(), 0);
  auto r = aio.login("bob@example.com", "bob-password");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_FALSE(r.headers["retry-after"].empty());

  // Another account from the same address still logs in (no NAT lock-out).
  EXPECT_EQ(aio.login("alice@example.com", "alice-password").status, 200);

  // X-Forwarded-For from an untrusted peer (no trusted_proxies) is ignored: five "different"
  // clients are one address and lock carol's pair.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(aio.login("carol@example.com", "wrong",
                        {"X-Forwarded-For: 198.51.100." + std::to_string(i)})
                  .status,
              401);
  }
  EXPECT_EQ(
      aio.login("carol@example.com", "carol-password", {"X-Forwarded-For: 198.51.100.200"}).status,
      429);

  aio.host->signal(SIGTERM);
  EXPECT_EQ(aio.host->wait(15s), 0) << aio.host->log();
}

TEST(InfoHttpHardening, RevocationsReachTheDataPlaneAndTheAuditLogHoldsNoSecret) {
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "line " + std::to_string(i) + "\n";
  AioHost aio(content,
              "audit_log = \"@DIR@audit.log\"\nmanifests_per_minute = 4\nmanifest_burst = 4\n");
  ASSERT_TRUE(aio.ready) << aio.host->log();
  std::vector<std::string> secrets = {kAdminPw, "bob-password", "dave-password", "wrong-bob-pw"};
  auto remember = [&](const std::string& t) {
    secrets.push_back(t);
    secrets.push_back(sha256_hex(t));
    return t;
  };
  const std::string admin = remember(token_of(aio.login(kAdmin, kAdminPw)));
  const std::string as_admin = "Authorization: Bearer " + admin;
  auto bob_resp = add_user(aio, admin, "bob@example.com", "bob-password");
  ASSERT_EQ(bob_resp.status, 201);
  const std::string bob_id = std::to_string(json::parse(bob_resp.body)["id"].get<int>());
  ASSERT_EQ(add_user(aio, admin, "dave@example.com", "dave-password").status, 201);
  const std::string id = aio.file_id(as_admin);
  ASSERT_FALSE(id.empty()) << aio.host->log();

  auto manifest = [&](const std::string& user_token) {
    auto r = http("GET", aio.base + "/v1/files/" + id + "?zone=zone-a",
                  {"Authorization: Bearer " + user_token});
    EXPECT_EQ(r.status, 200) << r.body;
    json m = json::parse(r.body, nullptr, false);
    return std::make_pair(remember(m.value("download_token", "")), m.value("uid", ""));
  };
  auto fetch = [&](const std::pair<std::string, std::string>& m) {
    return http("GET", aio.data + "/v1/content/" + m.second,
                {"Authorization: Bearer " + m.first, "Range: bytes=0-9"})
        .status;
  };
  auto files_status = [&](const std::string& user_token) {
    return http("GET", aio.base + "/v1/files", {"Authorization: Bearer " + user_token}).status;
  };
  auto admin_post = [&](const std::string& token, const std::string& path) {
    return http("POST", aio.base + path, {"Authorization: Bearer " + token});
  };

  // Logout revokes the user's download tokens on the file servers.
  EXPECT_EQ(aio.login("bob@example.com", "wrong-bob-pw").status, 401);
  std::string bob = remember(token_of(aio.login("bob@example.com", "bob-password")));
  auto t1 = manifest(bob);
  EXPECT_EQ(fetch(t1), 206);
  EXPECT_EQ(admin_post(bob, "/v1/auth/logout").status, 204);
  EXPECT_EQ(fetch(t1), 403) << "logout left the download token valid";

  // An admin revokes all of a user's tokens.
  bob = remember(token_of(aio.login("bob@example.com", "bob-password")));
  auto t2 = manifest(bob);
  EXPECT_EQ(fetch(t2), 206);
  EXPECT_EQ(admin_post(bob, "/v1/users/" + bob_id + "/revoke-tokens").status, 403);  // not admin
  auto r = admin_post(admin, "/v1/users/" + bob_id + "/revoke-tokens");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(json::parse(r.body)["download_tokens_revoked"].get<int>(), 1);
  EXPECT_EQ(files_status(bob), 401);
  EXPECT_EQ(fetch(t2), 403);

  // An admin disables a user: no login, no working token; enabling lets them back in.
  bob = remember(token_of(aio.login("bob@example.com", "bob-password")));
  EXPECT_EQ(admin_post(bob, "/v1/users/" + bob_id + "/disable").status, 403);
  r = admin_post(admin, "/v1/users/" + bob_id + "/disable");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["disabled"], true);
  EXPECT_EQ(files_status(bob), 401);
  r = aio.login("bob@example.com", "bob-password");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "permission_denied");
  EXPECT_EQ(admin_post(admin, "/v1/users/999/disable").status, 404);
  EXPECT_EQ(admin_post(admin, "/v1/users/1/disable").status, 400);  // the admin itself
  EXPECT_EQ(admin_post(admin, "/v1/users/" + bob_id + "/enable").status, 200);
  bob = remember(token_of(aio.login("bob@example.com", "bob-password")));
  EXPECT_EQ(files_status(bob), 200);

  // Manifests per user: a burst of 4, then 429 with Retry-After (4 a minute: 15 s).
  const std::string dave = remember(token_of(aio.login("dave@example.com", "dave-password")));
  for (int i = 0; i < 4; ++i) manifest(dave);
  r = http("GET", aio.base + "/v1/files/" + id, {"Authorization: Bearer " + dave});
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "rate_limited");
  EXPECT_EQ(r.headers["retry-after"], "15");

  aio.host->signal(SIGTERM);
  EXPECT_EQ(aio.host->wait(15s), 0) << aio.host->log();

  // The audit log: one JSON object per line, every kind of event, no token, hash or password.
  const std::string audit = read_file(aio.dir.file("audit.log"));
  std::multiset<std::string> events;
  std::istringstream lines(audit);
  std::string line;
  bool failed_names_bob = false, manifest_names_file = false;
  while (std::getline(lines, line)) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    events.insert(j["event"].get<std::string>());
    if (j["event"] == "login_failed" && j["account"] == "bob@example.com") failed_names_bob = true;
    if (j["event"] == "manifest" && j["file_id"] == std::stoi(id) && j["zone"] == "zone-a" &&
        j["user_id"] == std::stoi(bob_id)) {
      manifest_names_file = true;
    }
  }
  for (const char* e :
       {"login", "login_failed", "logout", "manifest", "user_created", "user_disabled",
        "user_enabled", "user_tokens_revoked", "download_tokens_revoked"}) {
    EXPECT_GT(events.count(e), 0u) << e << "\n" << audit;
  }
  EXPECT_TRUE(failed_names_bob) << audit;
  EXPECT_TRUE(manifest_names_file) << audit;
  const std::string log = aio.host->log();
  for (const auto& s : secrets) {
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(audit.find(s), std::string::npos) << "a secret in the audit log";
    EXPECT_EQ(log.find(s), std::string::npos) << "a secret in the host log";
  }
}

}  // namespace
}  // namespace dfd::test
