// info-sqlite through its real plugin library (loaded like the host does), with in-test Auth and
// Broker doubles and the FakeHost (routes called without HTTP, a clock the test moves). Built a
// second time with DFD_INFO_TEST_POSTGRES, the same tests run against info-postgres on a real
// PostgreSQL (info_env.hpp).
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "dfd/events.hpp"
#include "dfd/wire/manifest.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "info_doubles.hpp"
#include "info_env.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

std::string header(const HttpResponse& r, const std::string& name) {
  for (auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

json error_of(const HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  EXPECT_TRUE(j.is_object()) << r.body;
  EXPECT_TRUE(j.contains("error")) << r.body;
  return j.is_object() && j.contains("error") ? j["error"] : json::object();
}

#ifndef DFD_INFO_TEST_POSTGRES  // info-sqlite's own config (info-postgres: info_postgres_test)
// ---------------------------------------------------------------------------------------------
TEST(InfoSqliteConfig, RejectsBadConfig) {
  {
    TempDir d;
    FakeHost host({{"admin_email", std::string(kAdmin)}}, "info-sqlite");
    auto p = load_plugin("info-sqlite", host, false);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find("'db'"), std::string::npos) << p.status().message();
  }
  {
    TempDir d;
    FakeHost host({{"db", d.file("x.db")}, {"admin_email", std::string(kAdmin)}}, "info-sqlite");
    auto p = load_plugin("info-sqlite", host, false);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find("admin_password"), std::string::npos);
  }
  {
    TempDir d;
    FakeHost host({{"db", d.file("x.db")}, {"admin_pasword_file", std::string("x")}},
                  "info-sqlite");
    auto p = load_plugin("info-sqlite", host, false);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
  }
  {
    TempDir d;
    FakeHost host({{"db", d.file("x.db")}, {"limit", std::int64_t(3)}}, "info-sqlite");
    EXPECT_FALSE(load_plugin("info-sqlite", host, false).ok());
  }
  {
    TempDir d;
    FakeHost host({{"db", d.file("x.db")}, {"heartbeat_timeout_ms", std::int64_t(-1)}},
                  "info-sqlite");
    EXPECT_FALSE(load_plugin("info-sqlite", host, false).ok());
  }
}

TEST(InfoSqliteConfig, NeedsAuthWithUsersAndBroker) {
  KeepLibrary keep("info-sqlite");
  TempDir d;
  FakeHost host({{"db", d.file("x.db")}}, "info-sqlite");
  auto p = load_plugin("info-sqlite", host, true);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("auth"), std::string::npos);
}

TEST(InfoSqliteConfig, UsersComeFromAuthSqliteWhenTheFirstAuthStoresNone) {
  KeepLibrary keep("info-sqlite");
  TempDir d;
  FakeAuth hmac_like, users;
  hmac_like.users_supported = false;
  FakeBroker broker;
  FakeHost host({{"db", d.file("x.db")}}, "info-sqlite");
  host.add_plugin(PluginKind::kAuth, "auth-hmac", &hmac_like);
  host.add_plugin(PluginKind::kAuth, "auth-sqlite", &users);
  host.add_plugin(PluginKind::kBroker, "broker-local", &broker);
  ASSERT_TRUE(users.create_user("u@example.com", "U", "user-password", "user").ok());
  auto p = load_plugin("info-sqlite", host, true);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  HttpRequest q;
  q.body = R"({"email":"u@example.com","password":"user-password"})";
  EXPECT_EQ(host.call("POST", "/v1/auth/login", q).status, 200);

  // Named explicitly, a plugin without users is an error that says so.
  FakeHost host2({{"db", d.file("y.db")}, {"auth", std::string("auth-hmac")}}, "info-sqlite");
  host2.add_plugin(PluginKind::kAuth, "auth-hmac", &hmac_like);
  host2.add_plugin(PluginKind::kBroker, "broker-local", &broker);
  auto p2 = load_plugin("info-sqlite", host2, true);
  ASSERT_FALSE(p2.ok());
  EXPECT_NE(p2.status().message().find("stores no users"), std::string::npos);
}

TEST(InfoSqliteConfig, FirstAdminFromFileWithTrailingNewlineStripped) {
  KeepLibrary keep("info-sqlite");
  TempDir d;
  write_file(d.file("pw"), "s3cret-from-file\n");
  FakeAuth auth;
  FakeBroker broker;
  FakeHost host({{"db", d.file("x.db")},
                 {"admin_email", std::string("root@example.com")},
                 {"admin_password_file", d.file("pw")}},
                "info-sqlite");
  host.add_plugin(PluginKind::kAuth, "a", &auth);
  host.add_plugin(PluginKind::kBroker, "b", &broker);
  {
    auto p = load_plugin("info-sqlite", host, true);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    auto u = auth.check_password("root@example.com", "s3cret-from-file");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->role, "admin");
    EXPECT_EQ(host.log_text().find("s3cret"), std::string::npos);  // never logged
  }
  // A second start over the same store finds the admin and does not fail.
  FakeHost host2({{"db", d.file("x.db")},
                  {"admin_email", std::string("root@example.com")},
                  {"admin_password_file", d.file("pw")}},
                 "info-sqlite");
  host2.add_plugin(PluginKind::kAuth, "a", &auth);
  host2.add_plugin(PluginKind::kBroker, "b", &broker);
  auto p2 = load_plugin("info-sqlite", host2, true);
  EXPECT_TRUE(p2.ok()) << p2.status().to_string();
  EXPECT_EQ(auth.users.size(), 1u);
}

TEST(InfoSqliteConfig, MissingPasswordEnvIsAnError) {
  TempDir d;
  ::unsetenv("DFD_TEST_INFO_NOPE");
  FakeHost host({{"db", d.file("x.db")},
                 {"admin_email", std::string(kAdmin)},
                 {"admin_password_env", std::string("DFD_TEST_INFO_NOPE")}},
                "info-sqlite");
  auto p = load_plugin("info-sqlite", host, false);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("DFD_TEST_INFO_NOPE"), std::string::npos);
}

#endif

// ---------------------------------------------------------------------------------------------
TEST(InfoSqliteLogin, OkReturnsTokenExpiryAndUser) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok()) << env.status.to_string();
  auto r = env.login(kAdmin, kAdminPw);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_FALSE(j["token"].get<std::string>().empty());
  std::string exp = j["expires_at"];
  ASSERT_EQ(exp.size(), 20u) << exp;
  EXPECT_EQ(exp.back(), 'Z');
  EXPECT_EQ(exp[10], 'T');
  EXPECT_EQ(j["user"]["email"], kAdmin);
  EXPECT_EQ(j["user"]["role"], "admin");
  EXPECT_EQ(j["user"]["name"], "admin");
  EXPECT_TRUE(j["user"]["id"].is_number_integer());
  EXPECT_EQ(header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(env.host->metric("dfd_info_logins_total", {{"result", "ok"}}), 1.0);
  EXPECT_EQ(env.host->log_text().find(j["token"].get<std::string>()), std::string::npos);
}

TEST(InfoSqliteLogin, BadPasswordAndUnknownEmailLookTheSame) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  auto bad = env.login(kAdmin, "wrong");
  auto unknown = env.login("nobody@example.com", "wrong");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(bad.body, unknown.body);
  EXPECT_EQ(error_of(bad)["code"], "unauthenticated");
  EXPECT_EQ(env.host->metric("dfd_info_logins_total", {{"result", "failed"}}), 2.0);
}

TEST(InfoSqliteLogin, MalformedBodiesAre400) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  for (std::string body :
       {"", "not json", "[]", "{\"email\":\"a@b.c\"}", "{\"password\":\"x\"}",
        "{\"email\":1,\"password\":\"x\"}", "{\"email\":\"\",\"password\":\"x\"}"}) {
    auto r = env.call("POST", "/v1/auth/login", "", {}, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(error_of(r)["code"], "invalid_argument") << body;
  }
}

TEST(InfoSqliteLogin, RateLimitedPerAccountAndAddressWithRetryAfter) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(env.login(kAdmin, "wrong", "10.0.0.1").status, 401);
  auto r = env.login(kAdmin, kAdminPw, "10.0.0.1");  // even the right password waits
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(error_of(r)["code"], "rate_limited");
  int retry = std::atoi(header(r, "Retry-After").c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 300);
  EXPECT_EQ(env.host->metric("dfd_info_logins_total", {{"result", "rate_limited"}}), 1.0);
  // The owner from another address, and other accounts from the same address, go on.
  EXPECT_EQ(env.login(kAdmin, kAdminPw, "10.0.1.1").status, 200);
  env.auth.create_user("other@example.com", "o", "other-password", "user").value();
  EXPECT_EQ(env.login("other@example.com", "other-password", "10.0.0.1").status, 200);
  env.host->advance(std::chrono::seconds(retry) + 1s);
  EXPECT_EQ(env.login(kAdmin, kAdminPw, "10.0.0.1").status, 200);
}

// One person on a NAT cannot lock everyone behind it out (issue 11, #6): failures of one
// address against other accounts do not stop a right password; beyond
// login_address_max_failures the address backs off (1 s, 2 s, ...) instead of locking.
TEST(InfoSqliteLogin, AnAddressBacksOffInsteadOfLockingEveryAccount) {
  InfoEnv env({{"login_address_max_failures", std::int64_t(8)}});
  ASSERT_TRUE(env.status.ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(env.login("guess" + std::to_string(i) + "@example.com", "x", "10.9.9.9").status, 401);
  }
  EXPECT_EQ(env.login(kAdmin, kAdminPw, "10.9.9.9").status, 200);
  for (int i = 5; i < 8; ++i) {
    EXPECT_EQ(env.login("guess" + std::to_string(i) + "@example.com", "x", "10.9.9.9").status, 401);
  }
  auto r = env.login(kAdmin, kAdminPw, "10.9.9.9");
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(header(r, "Retry-After"), "1");
  EXPECT_EQ(env.login(kAdmin, kAdminPw, "10.9.9.8").status, 200);
  env.host->advance(1100ms);
  EXPECT_EQ(env.login("guess9@example.com", "x", "10.9.9.9").status, 401);
  r = env.login(kAdmin, kAdminPw, "10.9.9.9");
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(header(r, "Retry-After"), "2");  // doubled
  env.host->advance(2100ms);
  EXPECT_EQ(env.login(kAdmin, kAdminPw, "10.9.9.9").status, 200);
}

// One account guessed from many addresses backs off too (login_account_max_failures).
TEST(InfoSqliteLogin, AnAccountGuessedFromManyAddressesBacksOff) {
  InfoEnv env({{"login_account_max_failures", std::int64_t(6)}});
  ASSERT_TRUE(env.status.ok());
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(env.login(kAdmin, "wrong", "10.0.0." + std::to_string(i)).status, 401);
  }
  auto r = env.login(kAdmin, kAdminPw, "10.0.1.1");
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(header(r, "Retry-After"), "1");
  env.host->advance(1100ms);
  EXPECT_EQ(env.login(kAdmin, kAdminPw, "10.0.1.1").status, 200);
}

TEST(InfoSqliteLogin, SuccessResetsTheAccountCounter) {
  InfoEnv env({{"login_max_failures", std::int64_t(3)}});
  ASSERT_TRUE(env.status.ok());
  const std::string a = "10.0.0.1";
  EXPECT_EQ(env.login(kAdmin, "wrong", a).status, 401);
  EXPECT_EQ(env.login(kAdmin, "wrong", a).status, 401);
  EXPECT_EQ(env.login(kAdmin, kAdminPw, a).status, 200);
  EXPECT_EQ(env.login(kAdmin, "wrong", a).status, 401);
  EXPECT_EQ(env.login(kAdmin, "wrong", a).status, 401);
  EXPECT_EQ(env.login(kAdmin, kAdminPw, a).status, 200);  // 2 < 3 since the reset
  EXPECT_EQ(env.login(kAdmin, "wrong", a).status, 401);
  EXPECT_EQ(env.login(kAdmin, "wrong", a).status, 401);
  EXPECT_EQ(env.login(kAdmin, "wrong", a).status, 401);
  EXPECT_EQ(env.login(kAdmin, kAdminPw, a).status, 429);
}

// Check-then-act (issue 11, #6): parallel wrong logins test at most the limit, because each
// attempt is reserved before its password is checked.
TEST(InfoSqliteLogin, ParallelWrongLoginsTestAtMostTheLimit) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  env.auth.check_delay_ms = 20;
  std::atomic<int> tested{0}, limited{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        int st = env.login(kAdmin, "wrong", "10.5.5.5").status;
        (st == 401 ? tested : st == 429 ? limited : other)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(tested.load(), 5);
  EXPECT_EQ(limited.load(), 195);
  EXPECT_EQ(other.load(), 0);
}

// X-Forwarded-For is the client only when the peer is a trusted proxy.
TEST(InfoSqliteLogin, ForwardedForOnlyFromTrustedProxies) {
  InfoEnv env({{"trusted_proxies", std::vector<std::string>{"10.1.0.0/16", "::1"}}});
  ASSERT_TRUE(env.status.ok()) << env.status.to_string();
  auto login_via = [&](const std::string& peer, const std::string& xff, const std::string& pw) {
    HttpRequest q;
    q.body = json{{"email", kAdmin}, {"password", pw}}.dump();
    q.peer = peer;
    q.headers["x-forwarded-for"] = xff;
    return env.host->call("POST", "/v1/auth/login", q).status;
  };
  // Through the trusted proxy: five clients, one failure each; none is limited.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login_via("10.1.2.3", "203.0.113." + std::to_string(i), "wrong"), 401);
  }
  EXPECT_EQ(login_via("10.1.2.3", "203.0.113.9", kAdminPw), 200);
  // The rightmost untrusted hop counts (a client cannot pick its address by prepending one).
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login_via("10.1.2.3", "198.51.100." + std::to_string(i) + ", 192.0.2.7", "wrong"),
              401);
  }
  EXPECT_EQ(login_via("10.1.2.3", "198.51.100.99, 192.0.2.7", kAdminPw), 429);
  // From an untrusted peer the header is ignored: the peer's own five failures lock the pair.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(login_via("10.2.0.1", "203.0.113." + std::to_string(50 + i), "wrong"), 401);
  }
  EXPECT_EQ(login_via("10.2.0.1", "203.0.113.77", kAdminPw), 429);
}

TEST(InfoSqliteConfig, RejectsBadTrustedProxiesAndLimits) {
  for (const auto& bad : std::vector<std::map<std::string, ConfigValue>>{
           {{"trusted_proxies", std::vector<std::string>{"not-an-ip"}}},
           {{"trusted_proxies", std::vector<std::string>{"10.0.0.0/33"}}},
           {{"trusted_proxies", std::vector<std::string>{"::1/129"}}},
           {{"manifests_per_minute", std::int64_t(-1)}},
           {{"manifests_per_minute", std::string("12x")}},
           {{"login_address_max_failures", std::int64_t(0)}}}) {
    InfoEnv env(bad);
    EXPECT_FALSE(env.status.ok()) << bad.begin()->first;
  }
  InfoEnv env({{"manifests_per_minute", std::string("0")}});
  EXPECT_TRUE(env.status.ok()) << env.status.to_string();
}

TEST(InfoSqliteLogin, LogoutRevokesTheUserToken) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  std::string t = env.admin_token();
  EXPECT_EQ(env.call("GET", "/v1/files", t).status, 200);
  EXPECT_EQ(env.call("POST", "/v1/auth/logout", t).status, 204);
  EXPECT_EQ(env.call("GET", "/v1/files", t).status, 401);
  EXPECT_EQ(env.call("POST", "/v1/auth/logout", t).status, 401);
}

TEST(InfoSqliteAuth, EveryRouteButLoginNeedsAUserToken) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  std::vector<std::pair<std::string, std::string>> routes{{"GET", "/v1/files"},
                                                          {"GET", "/v1/files/1"},
                                                          {"GET", "/v1/servers"},
                                                          {"POST", "/v1/users"},
                                                          {"GET", "/v1/users"},
                                                          {"GET", "/v1/users/me"},
                                                          {"POST", "/v1/users/1/password"},
                                                          {"POST", "/v1/auth/logout"}};
  for (auto& [m, p] : routes) {
    for (std::string tok : {"", "bogus"}) {
      auto r = env.call(m, p, tok);
      EXPECT_EQ(r.status, 401) << m << " " << p << " token=" << tok;
      EXPECT_EQ(error_of(r)["code"], "unauthenticated");
      EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer");
    }
  }
}

// ---------------------------------------------------------------------------------------------
TEST(InfoSqliteFiles, ListPagesAndValidates) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(env.announce("fs-a1", "zone-a", i, 100 + i).ok());
  std::string t = env.user_token();
  auto r = env.call("GET", "/v1/files", t, {{"limit", "2"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["total"], 5);
  ASSERT_EQ(j["files"].size(), 2u);
  EXPECT_EQ(j["files"][0]["uid"], hex64(1));
  EXPECT_EQ(j["files"][0]["name"], "file-1.bin");
  EXPECT_EQ(j["files"][0]["size"], 101);
  EXPECT_EQ(j["files"][0]["digest"]["alg"], "sha256");
  EXPECT_EQ(j["files"][0]["digest"]["value"], hex64(1));
  EXPECT_EQ(j["files"][0]["available"], true);
  EXPECT_TRUE(j["files"][0]["id"].is_number_integer());
  EXPECT_LT(j["files"][0]["id"].get<int>(), j["files"][1]["id"].get<int>());

  j = json::parse(env.call("GET", "/v1/files", t, {{"limit", "2"}, {"offset", "4"}}).body);
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["uid"], hex64(5));
  j = json::parse(env.call("GET", "/v1/files", t, {{"offset", "10"}}).body);
  EXPECT_EQ(j["files"].size(), 0u);
  EXPECT_EQ(j["total"], 5);
  j = json::parse(env.call("GET", "/v1/files", t).body);
  EXPECT_EQ(j["files"].size(), 5u);

  for (std::string bad : {"0", "1001", "abc", "-1", "", "1e3", " 5"}) {
    auto b = env.call("GET", "/v1/files", t, {{"limit", bad}});
    EXPECT_EQ(b.status, 400) << "limit=" << bad;
    EXPECT_EQ(error_of(b)["code"], "invalid_argument");
  }
  for (std::string bad : {"-1", "x", ""}) {
    EXPECT_EQ(env.call("GET", "/v1/files", t, {{"offset", bad}}).status, 400) << bad;
  }
  EXPECT_EQ(env.call("GET", "/v1/files", t, {{"limit", "1000"}}).status, 200);

  // Once the only server falls silent the files stay listed but are not available.
  env.host->advance(7s);
  j = json::parse(env.call("GET", "/v1/files", t).body);
  EXPECT_EQ(j["total"], 5);
  EXPECT_EQ(j["files"][0]["available"], false);
}

TEST(InfoSqliteEvents, IdempotentAndReplicasAreOneFile) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());  // redelivery
  ASSERT_TRUE(env.announce("fs-b1", "zone-b", 1).ok());  // a replica
  ASSERT_TRUE(env.heartbeat("fs-a1", "zone-a").ok());
  ASSERT_TRUE(env.heartbeat("fs-a1", "zone-a").ok());
  std::string t = env.user_token();
  json j = json::parse(env.call("GET", "/v1/files", t).body);
  EXPECT_EQ(j["total"], 1);
  EXPECT_EQ(env.host->metric("dfd_info_catalog_files"), 1.0);
  std::string id = std::to_string(j["files"][0]["id"].get<int>());
  j = json::parse(env.call("GET", "/v1/files/" + id, t).body);
  EXPECT_EQ(j["locations"].size(), 2u);

  events::FileRemoved rm{"fs-b1", hex64(1)};
  ASSERT_TRUE(env.broker
                  .deliver(events::server_routing_key(events::kFileRemoved, rm.server_id),
                           events::encode_file_removed(rm))
                  .ok());
  ASSERT_TRUE(env.broker
                  .deliver(events::server_routing_key(events::kFileRemoved, rm.server_id),
                           events::encode_file_removed(rm))
                  .ok());
  events::FileRemoved unknown{"fs-x", hex64(99)};
  ASSERT_TRUE(env.broker
                  .deliver(events::server_routing_key(events::kFileRemoved, unknown.server_id),
                           events::encode_file_removed(unknown))
                  .ok());
  j = json::parse(env.call("GET", "/v1/files/" + id, t).body);
  ASSERT_EQ(j["locations"].size(), 1u);
  EXPECT_EQ(j["locations"][0]["server_id"], "fs-a1");
  EXPECT_EQ(env.broker.bindings, (std::vector<std::string>{"file.#", "server.#"}));
}

TEST(InfoSqliteEvents, MalformedEventsAreLoggedAndAcked) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  // kInvalidArgument: the broker rejects them once, without requeue (never redelivered), and
  // logs them rate-limited; nothing is applied and the plugin logs nothing per event.
  const auto invalid = Code::kInvalidArgument;
  EXPECT_EQ(env.broker.deliver("file.available.fs-a1", "not json").code(), invalid);
  EXPECT_EQ(env.broker.deliver("file.available.fs-a1", "{\"v\":2}").code(), invalid);
  EXPECT_EQ(env.broker.deliver("server.heartbeat.fs-a1", "{\"v\":1,\"server_id\":3}").code(),
            invalid);
  EXPECT_EQ(env.broker.deliver("file.removed.fs-a1", "{}").code(), invalid);
  events::FileAvailable bad;
  bad.server_id = "fs-a1";
  bad.zone = "zone-a";
  bad.url = "ftp://nope";
  bad.uid = "NOT-HEX";
  bad.name = "x";
  bad.size = 1;
  bad.alg = "sha256";
  bad.chunk_size = 1;
  bad.chunks = {"00"};
  EXPECT_EQ(env.broker.deliver("file.available.fs-a1", events::encode_file_available(bad)).code(),
            invalid);
  EXPECT_TRUE(env.broker.deliver("file.future", "{\"v\":1}").ok());  // unknown key: ignored
  EXPECT_EQ(env.host->metric("dfd_info_events_rejected_total"), 5.0);
  EXPECT_EQ(env.host->log_text().find("file.available event"), std::string::npos);

  // A replica that claims another size for the same uid is refused, the catalog keeps the first.
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1, 10).ok());
  EXPECT_EQ(env.announce("fs-b1", "zone-b", 1, 11).code(), invalid);
  EXPECT_EQ(env.host->metric("dfd_info_events_rejected_total"), 6.0);
  std::string t = env.user_token();
  json j = json::parse(env.call("GET", "/v1/files", t).body);
  EXPECT_EQ(j["total"], 1);
  EXPECT_EQ(j["files"][0]["size"], 10);
  j = json::parse(
      env.call("GET", "/v1/files/" + std::to_string(j["files"][0]["id"].get<int>()), t).body);
  EXPECT_EQ(j["locations"].size(), 1u);
}

// A one-chunk file.available of `server` for `uid` named `name`.
events::FileAvailable one_chunk_file(const std::string& server, const std::string& zone,
                                     const std::string& url, const std::string& uid,
                                     const std::string& name) {
  events::FileAvailable f;
  f.server_id = server;
  f.zone = zone;
  f.url = url;
  f.uid = uid;
  f.name = name;
  f.size = 4;
  f.alg = "sha256";
  f.chunk_size = 4;
  f.chunks = {sha256_hex("x")};
  return f;
}

// file.available.<id>, file.removed.<id>, server.heartbeat.<id>: a body that speaks for another
// server than the routing key names is refused (RabbitMQ topic permissions and event signatures
// bind the routing key to the publisher; this binds the body to the routing key).
TEST(InfoSqliteEvents, ABodyForAnotherServerThanTheRoutingKeyIsRefused) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  events::FileAvailable f =
      one_chunk_file("fs-b1", "zone-b", "http://127.0.0.1:9199/evil", hex64(7), "evil.bin");
  const auto invalid = Code::kInvalidArgument;
  EXPECT_EQ(env.broker.deliver("file.available.fs-a1", events::encode_file_available(f)).code(),
            invalid);
  EXPECT_EQ(env.broker.deliver("file.available", events::encode_file_available(f)).code(), invalid);
  EXPECT_EQ(env.broker
                .deliver("server.heartbeat.fs-a1",
                         events::encode_heartbeat({"fs-b1", "zone-b", f.url, 2000, 1}))
                .code(),
            invalid);
  EXPECT_EQ(
      env.broker.deliver("file.removed.fs-a1", events::encode_file_removed({"fs-b1", hex64(7)}))
          .code(),
      invalid);
  const std::string token = env.user_token();
  json j = json::parse(env.call("GET", "/v1/files", token).body);
  EXPECT_EQ(j["total"], 0) << j.dump();
  // The same body under its own server's key is applied.
  EXPECT_TRUE(env.broker.deliver("file.available.fs-b1", events::encode_file_available(f)).ok());
  j = json::parse(env.call("GET", "/v1/files", token).body);
  EXPECT_EQ(j["total"], 1) << j.dump();
}

// Issue 11, #8: names with control characters never reach the catalog (and so never `dfd ls`).
// The event is acknowledged (it never becomes valid) and counted. (The SDK's event decoder may
// refuse them first after issue 11; either way nothing is listed and nothing is redelivered.)
TEST(InfoSqliteEvents, FileNamesWithControlCharactersAreRejected) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  const std::vector<std::string> bad = {"esc\x1b[31mred.bin",
                                        "bell\x07.bin",
                                        "two\nlines.bin",
                                        std::string("nul\0.bin", 8),
                                        "del\x7f.bin",
                                        "c1\xc2\x9b"
                                        "31m.bin",
                                        "tab\t.bin"};
  int n = 100;
  for (const auto& name : bad) {
    events::FileAvailable f;
    f.server_id = "fs-a1";
    f.zone = "zone-a";
    f.url = "http://127.0.0.1:9101/fs-a1";
    f.uid = hex64(n++);
    f.name = name;
    f.size = 4;
    f.alg = "sha256";
    f.chunk_size = 4;
    f.chunks = {sha256_hex(name)};
    // Refused by the SDK's decoder (kInvalidArgument: rejected once by the broker) or dropped
    // by the plugin's own check (Ok); never redelivered either way.
    auto st = env.broker.deliver(events::server_routing_key(events::kFileAvailable, f.server_id),
                                 events::encode_file_available(f));
    EXPECT_TRUE(st.ok() || st.code() == Code::kInvalidArgument) << st.to_string();
  }
  EXPECT_EQ(env.host->metric("dfd_info_file_names_rejected_total") +
                env.host->metric("dfd_info_events_rejected_total"),
            static_cast<double>(bad.size()));
  // Logged once, and never with the raw bytes.
  const std::string log = env.host->log_text();
  EXPECT_EQ(log.find('\x1b'), std::string::npos);
  EXPECT_EQ(log.find('\x07'), std::string::npos);
  // A printable UTF-8 name is fine.
  events::FileAvailable ok = one_chunk_file("fs-a1", "zone-a", "http://127.0.0.1:9101/fs-a1",
                                            hex64(1), "caf\xc3\xa9 \xe2\x82\xac.bin");
  ASSERT_TRUE(env.broker.deliver("file.available.fs-a1", events::encode_file_available(ok)).ok());
  json j = json::parse(env.call("GET", "/v1/files", env.user_token()).body);
  ASSERT_EQ(j["total"], 1) << j.dump();
  EXPECT_EQ(j["files"][0]["name"], ok.name);
}

TEST(InfoSqliteEvents, CatalogSurvivesARestartWithStableIds) {
  TempDir keep;
  std::string db = lasting_store(keep);
  std::int64_t id2 = 0;
  {
    InfoEnv env({}, &db);
    ASSERT_TRUE(env.status.ok()) << env.status.to_string();
    ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
    ASSERT_TRUE(env.announce("fs-a1", "zone-a", 2, 9, 3).ok());
    ASSERT_TRUE(env.announce("fs-a1", "zone-a", 2, 9, 3).ok());  // a repeat: memory only
    ASSERT_TRUE(env.heartbeat("fs-a1", "zone-a").ok());
    id2 = env.file_id(2);
    ASSERT_GT(id2, 0);
  }
  InfoEnv env({}, &db);
  ASSERT_TRUE(env.status.ok()) << env.status.to_string();
  EXPECT_EQ(env.file_id(2), id2);
  std::string t = env.user_token();
  auto r = env.call("GET", "/v1/files/" + std::to_string(id2), t);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["chunk_size"], 3);
  EXPECT_EQ(j["chunks"].size(), 3u);
  EXPECT_EQ(j["locations"][0]["server_id"], "fs-a1");
}

// ---------------------------------------------------------------------------------------------
TEST(InfoSqliteManifest, FullShapeZoneOrderAndConfirmedToken) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  for (auto [s, z] : std::vector<std::pair<std::string, std::string>>{
           {"fs-c1", "zone-c"}, {"fs-b2", "zone-b"}, {"fs-a1", "zone-a"}, {"fs-b1", "zone-b"}}) {
    ASSERT_TRUE(env.announce(s, z, 7, 10, 4).ok());
    ASSERT_TRUE(env.heartbeat(s, z).ok());
  }
  std::string t = env.user_token();
  std::int64_t id = env.file_id(7);
  ASSERT_GT(id, 0);
  auto r = env.call("GET", "/v1/files/" + std::to_string(id), t, {{"zone", "zone-b"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  auto decoded = dfd::wire::decode_manifest(r.body);  // the client's decoder reads it (issue 15)
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->locations.size(), 4u);
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["uid"], hex64(7));
  EXPECT_EQ(j["name"], "file-7.bin");
  EXPECT_EQ(j["size"], 10);
  EXPECT_EQ(j["digest"], (json{{"alg", "sha256"}, {"value", hex64(7)}}));
  EXPECT_EQ(j["chunk_size"], 4);
  ASSERT_EQ(j["chunks"].size(), 3u);
  EXPECT_EQ(j["chunks"][0], sha256_hex(hex64(7) + "0"));
  std::vector<std::string> order;
  for (auto& l : j["locations"]) {
    order.push_back(l["server_id"]);
    EXPECT_EQ(l["healthy"], true);
    EXPECT_TRUE(l["url"].get<std::string>().rfind("http://127.0.0.1:", 0) == 0);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"fs-b1", "fs-b2", "fs-a1", "fs-c1"}));
  EXPECT_EQ(j["locations"][0]["zone"], "zone-b");
  std::string token = j["download_token"];
  EXPECT_FALSE(token.empty());
  EXPECT_EQ(j["token_expires_at"].get<std::string>().size(), 20u);
  EXPECT_EQ(header(r, "Cache-Control"), "no-store");

  // The token.issued event was published (and confirmed) before the answer.
  auto sent = env.broker.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, events::kTokenIssued);
  auto rec = events::decode_token_issued(sent[0].second);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->token_hash, sha256_hex(token));
  EXPECT_EQ(rec->scope, hex64(7));
  // At most the configured confirm timeout (what is left of it when the batch is published).
  EXPECT_LE(env.broker.last_timeout, 2000ms);
  EXPECT_GT(env.broker.last_timeout, 1000ms);
  EXPECT_EQ(env.auth.verify_download_token(token, hex64(7)), TokenVerdict::kValid);
  EXPECT_EQ(env.host->metric("dfd_info_tokens_issued_total"), 1.0);

  // Without a zone: ordered by zone, then server id.
  j = json::parse(env.call("GET", "/v1/files/" + std::to_string(id), t).body);
  order.clear();
  for (auto& l : j["locations"]) order.push_back(l["server_id"]);
  EXPECT_EQ(order, (std::vector<std::string>{"fs-a1", "fs-b1", "fs-b2", "fs-c1"}));
  EXPECT_NE(j["download_token"], token);  // a fresh token each time
}

TEST(InfoSqliteManifest, OnlyLiveLocationsAfterTheHeartbeatTimeout) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  for (auto [s, z] : std::vector<std::pair<std::string, std::string>>{
           {"fs-a1", "zone-a"}, {"fs-b1", "zone-b"}, {"fs-c1", "zone-c"}}) {
    ASSERT_TRUE(env.announce(s, z, 1).ok());
    ASSERT_TRUE(env.heartbeat(s, z).ok());
  }
  std::string t = env.user_token();
  std::string path = "/v1/files/" + std::to_string(env.file_id(1));
  auto servers_of = [&]() {
    std::vector<std::string> out;
    auto r = env.call("GET", path, t);
    if (r.status != 200) return out;
    json j = json::parse(r.body);
    for (auto& l : j["locations"]) out.push_back(l["server_id"]);
    return out;
  };
  EXPECT_EQ(servers_of().size(), 3u);
  env.host->advance(4s);
  ASSERT_TRUE(env.heartbeat("fs-a1", "zone-a").ok());
  env.host->advance(3s);  // fs-b1 and fs-c1: 7 s > 6 s; fs-a1: 3 s
  EXPECT_EQ(servers_of(), (std::vector<std::string>{"fs-a1"}));
  env.host->advance(4s);  // fs-a1: 7 s
  auto r = env.call("GET", path, t);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_of(r)["code"], "unavailable");
  EXPECT_EQ(r.body.find("download_token"), std::string::npos);
  EXPECT_EQ(env.broker.sent().size(), 2u);             // the two 200s above; none for the 503
  ASSERT_TRUE(env.heartbeat("fs-c1", "zone-c").ok());  // heard again → back
  EXPECT_EQ(servers_of(), (std::vector<std::string>{"fs-c1"}));

  auto s = json::parse(env.call("GET", "/v1/servers", t).body)["servers"];
  ASSERT_EQ(s.size(), 3u);
  std::map<std::string, bool> healthy;
  for (auto& e : s) {
    healthy[e["server_id"]] = e["healthy"];
    EXPECT_TRUE(e.contains("last_heartbeat_age_ms"));
    EXPECT_TRUE(e.contains("last_heartbeat"));
    EXPECT_EQ(e["files"], 1);
  }
  EXPECT_EQ(healthy,
            (std::map<std::string, bool>{{"fs-a1", false}, {"fs-b1", false}, {"fs-c1", true}}));
  EXPECT_EQ(env.host->metric("dfd_info_live_servers"), 1.0);
}

TEST(InfoSqliteManifest, PublishFailureIs503WithoutToken) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  std::string t = env.user_token();
  std::string path = "/v1/files/" + std::to_string(env.file_id(1));
  env.broker.fail_publish = true;
  auto r = env.call("GET", path, t);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_of(r)["code"], "unavailable");
  EXPECT_EQ(r.body.find("download_token"), std::string::npos);
  EXPECT_EQ(r.body.find("dl-"), std::string::npos);
  // The unconfirmed token was withdrawn from the local store.
  ASSERT_EQ(env.auth.download.size(), 1u);
  EXPECT_EQ(env.auth.revoked.count(env.auth.download.begin()->first), 1u);
  EXPECT_EQ(env.host->metric("dfd_info_tokens_issued_total"), 0.0);
  EXPECT_EQ(env.host->metric("dfd_info_token_publish_failures_total"), 1.0);
  env.broker.fail_publish = false;
  EXPECT_EQ(env.call("GET", path, t).status, 200);
}

TEST(InfoSqliteManifest, SelfVerifyingTokensNeedNoEvent) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  env.auth.events = false;
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  std::string t = env.user_token();
  env.broker.fail_publish = true;
  auto r = env.call("GET", "/v1/files/" + std::to_string(env.file_id(1)), t);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(env.broker.sent().empty());
}

TEST(InfoSqliteManifest, DownloadAuthCanBeAnotherPlugin) {
  FakeAuth hmac_like;
  hmac_like.events = false;
  InfoEnv env({{"download_auth", std::string("auth-hmac-fake")}}, nullptr, false);
  env.host->add_plugin(PluginKind::kAuth, "auth-hmac-fake", &hmac_like);
  ASSERT_TRUE(env.status.ok());
  ASSERT_TRUE(env.info.get()->start().ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  std::string t = env.user_token();
  auto r = env.call("GET", "/v1/files/" + std::to_string(env.file_id(1)), t);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(hmac_like.download.size(), 1u);
  EXPECT_TRUE(env.auth.download.empty());
  EXPECT_TRUE(env.broker.sent().empty());
  env.info.get()->stop();
}

// A per-user token bucket on manifests: manifest_burst at once, then manifests_per_minute.
TEST(InfoSqliteManifest, PerUserRateLimitAnswers429WithRetryAfter) {
  InfoEnv env({{"manifests_per_minute", std::int64_t(6)}, {"manifest_burst", std::int64_t(3)}});
  ASSERT_TRUE(env.status.ok()) << env.status.to_string();
  ASSERT_TRUE(env.heartbeat("fs-a1", "zone-a").ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  const std::string id = std::to_string(env.file_id(1));
  const std::string user = env.user_token();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(env.call("GET", "/v1/files/" + id, user).status, 200);
  auto r = env.call("GET", "/v1/files/" + id, user);
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(error_of(r)["code"], "rate_limited");
  EXPECT_EQ(header(r, "Retry-After"), "10");  // 6 a minute: one every 10 s
  EXPECT_EQ(env.host->metric("dfd_info_manifests_rate_limited_total"), 1.0);
  // Another user has a bucket of their own.
  EXPECT_EQ(env.call("GET", "/v1/files/" + id, env.admin_token()).status, 200);
  env.host->advance(10s);
  ASSERT_TRUE(env.heartbeat("fs-a1", "zone-a").ok());
  EXPECT_EQ(env.call("GET", "/v1/files/" + id, user).status, 200);
  EXPECT_EQ(env.call("GET", "/v1/files/" + id, user).status, 429);
}

TEST(InfoSqliteManifest, UnknownAndMalformedIds) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  std::string t = env.user_token();
  auto r = env.call("GET", "/v1/files/12345", t);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r)["code"], "not_found");
  for (std::string bad : {"abc", "0", "-3", "99999999999999999999"}) {
    auto b = env.call("GET", "/v1/files/" + bad, t);
    EXPECT_EQ(b.status, 400) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
TEST(InfoSqliteUsers, AdminAddsUsersOthersCannot) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  std::string admin = env.admin_token();
  auto r = env.call("POST", "/v1/users", admin, {},
                    json{{"email", "bob@example.com"},
                         {"name", "Bob"},
                         {"password", "bob-password"},
                         {"role", "user"}}
                        .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json u = json::parse(r.body);
  EXPECT_EQ(u["email"], "bob@example.com");
  EXPECT_EQ(u["name"], "Bob");
  EXPECT_EQ(u["role"], "user");
  EXPECT_TRUE(u["id"].is_number_integer());
  EXPECT_FALSE(u.contains("password"));

  auto dup = env.call("POST", "/v1/users", admin, {},
                      json{{"email", "bob@example.com"}, {"password", "another-pass"}}.dump());
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(error_of(dup)["code"], "already_exists");

  auto bob = env.login("bob@example.com", "bob-password");
  ASSERT_EQ(bob.status, 200);
  std::string bob_token = json::parse(bob.body)["token"];
  auto denied = env.call("POST", "/v1/users", bob_token, {},
                         json{{"email", "eve@example.com"}, {"password", "eve-password"}}.dump());
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_of(denied)["code"], "permission_denied");

  for (json bad : {json{{"email", "no-at-sign"}, {"password", "long-enough"}},
                   json{{"email", "c@example.com"}, {"password", "short"}},
                   json{{"email", "c@example.com"}, {"password", "long-enough"}, {"role", "root"}},
                   json{{"email", "c@example.com"}, {"password", "long-enough"}, {"name", 3}},
                   json{{"password", "long-enough"}}, json::array()}) {
    auto b = env.call("POST", "/v1/users", admin, {}, bad.dump());
    EXPECT_EQ(b.status, 400) << bad.dump();
    EXPECT_EQ(error_of(b)["code"], "invalid_argument");
  }
  // Defaults: role user, empty name.
  auto d = env.call("POST", "/v1/users", admin, {},
                    json{{"email", "dee@example.com"}, {"password", "dee-password"}}.dump());
  ASSERT_EQ(d.status, 201);
  EXPECT_EQ(json::parse(d.body)["role"], "user");
}

// Issue 13: listing users, the caller's own user, password changes (auth ABI minor 2).
std::string token_of(const HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("token") && j["token"].is_string()
             ? j["token"].get<std::string>()
             : "";
}

std::string password_body(const std::string& pw, const std::string& current = "") {
  json j{{"password", pw}};
  if (!current.empty()) j["current_password"] = current;
  return j.dump();
}

TEST(InfoSqliteUsers, AnAdminListsUsersPageByPage) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  std::string admin = env.admin_token();
  for (const char* e : {"b@example.com", "c@example.com", "d@example.com"}) {
    ASSERT_TRUE(env.auth.create_user(e, std::string("name of ") + e, "password-1", "user").ok());
  }
  auto r = env.call("GET", "/v1/users", admin);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["total"], 4);
  ASSERT_EQ(j["users"].size(), 4u);
  EXPECT_EQ(j["users"][0]["email"], kAdmin);
  EXPECT_EQ(j["users"][0]["role"], "admin");
  EXPECT_EQ(j["users"][1], (json{{"id", 2},
                                 {"email", "b@example.com"},
                                 {"name", "name of b@example.com"},
                                 {"role", "user"},
                                 {"disabled", false}}));
  for (auto& u : j["users"]) EXPECT_FALSE(u.contains("password")) << u.dump();

  auto page = env.call("GET", "/v1/users", admin, {{"limit", "2"}, {"offset", "1"}});
  ASSERT_EQ(page.status, 200) << page.body;
  json p = json::parse(page.body);
  EXPECT_EQ(p["total"], 4);
  ASSERT_EQ(p["users"].size(), 2u);
  EXPECT_EQ(p["users"][0]["email"], "b@example.com");
  EXPECT_EQ(p["users"][1]["email"], "c@example.com");
  auto past = env.call("GET", "/v1/users", admin, {{"offset", "10"}});
  ASSERT_EQ(past.status, 200);
  EXPECT_TRUE(json::parse(past.body)["users"].empty());
  for (auto bad : std::vector<std::map<std::string, std::string>>{
           {{"limit", "0"}}, {{"limit", "1001"}}, {{"limit", "x"}}, {{"offset", "-1"}}}) {
    auto b = env.call("GET", "/v1/users", admin, bad);
    EXPECT_EQ(b.status, 400) << bad.begin()->first << "=" << bad.begin()->second;
    EXPECT_EQ(error_of(b)["code"], "invalid_argument");
  }
  // Only an admin.
  auto c = env.login("c@example.com", "password-1");
  ASSERT_EQ(c.status, 200);
  auto denied = env.call("GET", "/v1/users", token_of(c));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_of(denied)["code"], "permission_denied");
}

TEST(InfoSqliteUsers, MeIsTheCaller) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  std::string user = env.user_token("me@example.com");
  auto r = env.call("GET", "/v1/users/me", user);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["email"], "me@example.com");
  EXPECT_EQ(j["role"], "user");
  EXPECT_TRUE(j["id"].is_number_integer());
}

TEST(InfoSqliteUsers, AnAdminSetsAnotherUsersPasswordAndTheirSessionsEnd) {
  TempDir dir;
  const std::string audit = dir.file("audit.log");
  InfoEnv env({{"audit_log", audit}});
  ASSERT_TRUE(env.status.ok()) << env.status.to_string();
  std::string admin = env.admin_token();
  std::string bob = env.user_token("bob@example.com");
  const std::string bob_id = std::to_string(env.auth.find_user("bob@example.com")->id);

  auto r = env.call("POST", "/v1/users/" + bob_id + "/password", admin, {},
                    password_body("bob-new-password"));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["user"]["email"], "bob@example.com");
  EXPECT_EQ(j["sessions_ended"], true);
  EXPECT_FALSE(j.contains("token"));  // not the admin's to hand out
  EXPECT_EQ(header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(env.call("GET", "/v1/users/me", bob).status, 401);  // bob's session ended
  EXPECT_EQ(env.call("GET", "/v1/users/me", admin).status, 200);
  EXPECT_EQ(env.login("bob@example.com", "user-password").status, 401);
  EXPECT_EQ(env.login("bob@example.com", "bob-new-password").status, 200);

  EXPECT_EQ(
      env.call("POST", "/v1/users/999/password", admin, {}, password_body("long-enough")).status,
      404);
  EXPECT_EQ(
      env.call("POST", "/v1/users/x/password", admin, {}, password_body("long-enough")).status,
      400);
  for (std::string bad : {password_body("short"), std::string("[]"), std::string("{"),
                          json{{"password", 12345678}}.dump(), std::string("{}")}) {
    auto b = env.call("POST", "/v1/users/" + bob_id + "/password", admin, {}, bad);
    EXPECT_EQ(b.status, 400) << bad;
    EXPECT_EQ(error_of(b)["code"], "invalid_argument");
  }
  // A line in the audit log, never the password.
  std::string log = read_file(audit);
  EXPECT_NE(log.find("\"event\":\"user_password_changed\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"self\":false"), std::string::npos) << log;
  EXPECT_EQ(log.find("bob-new-password"), std::string::npos) << log;
  EXPECT_EQ(env.host->log_text().find("bob-new-password"), std::string::npos);
}

TEST(InfoSqliteUsers, AUserChangesOnlyTheirOwnPasswordAndNeedsTheCurrentOne) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  std::string admin = env.admin_token();
  std::string bob = env.user_token("bob@example.com");
  const std::string bob_id = std::to_string(env.auth.find_user("bob@example.com")->id);
  const std::string admin_id = std::to_string(env.auth.find_user(kAdmin)->id);

  // Not another user's, not even with that user's password.
  auto other = env.call("POST", "/v1/users/" + admin_id + "/password", bob, {},
                        password_body("taken-over-1", kAdminPw));
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(error_of(other)["code"], "permission_denied");
  // The own one needs the current password: missing → 400, wrong → 403.
  const std::string own = "/v1/users/" + bob_id + "/password";
  EXPECT_EQ(env.call("POST", own, bob, {}, password_body("bob-new-password")).status, 400);
  auto wrong = env.call("POST", own, bob, {}, password_body("bob-new-password", "not-it-at-all"));
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(error_of(wrong)["message"], "the current password is wrong");
  EXPECT_EQ(env.login("bob@example.com", "user-password").status, 200);  // unchanged

  auto ok = env.call("POST", own, bob, {}, password_body("bob-new-password", "user-password"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  json j = json::parse(ok.body);
  EXPECT_EQ(j["user"]["email"], "bob@example.com");
  // Every session ended, this one goes on with a fresh token.
  const std::string fresh = token_of(ok);
  ASSERT_FALSE(fresh.empty());
  EXPECT_TRUE(j["expires_at"].is_string());
  EXPECT_EQ(env.call("GET", "/v1/users/me", bob).status, 401);
  EXPECT_EQ(env.call("GET", "/v1/users/me", fresh).status, 200);
  EXPECT_EQ(env.login("bob@example.com", "user-password").status, 401);
  EXPECT_EQ(env.login("bob@example.com", "bob-new-password").status, 200);

  // An admin changing their own password gives the current one too.
  const std::string admin_own = "/v1/users/" + admin_id + "/password";
  EXPECT_EQ(env.call("POST", admin_own, admin, {}, password_body("admin-new-password")).status,
            400);
  EXPECT_EQ(
      env.call("POST", admin_own, admin, {}, password_body("admin-new-password", kAdminPw)).status,
      200);
}

// A wrong current password counts in the login throttle (docs/api.md): guessing it through the
// password route is no faster than through the login.
TEST(InfoSqliteUsers, WrongCurrentPasswordsCountInTheLoginThrottle) {
  InfoEnv env({{"login_max_failures", std::int64_t(3)}});
  ASSERT_TRUE(env.status.ok()) << env.status.to_string();
  std::string bob = env.user_token("bob@example.com");
  const std::string own =
      "/v1/users/" + std::to_string(env.auth.find_user("bob@example.com")->id) + "/password";
  for (int i = 0; i < 3; ++i) {
    auto r = env.call("POST", own, bob, {},
                      password_body("bob-new-password", "guess-" + std::to_string(i)));
    EXPECT_EQ(r.status, 403) << r.body;
  }
  auto limited = env.call("POST", own, bob, {}, password_body("bob-new-password", "user-password"));
  ASSERT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(error_of(limited)["code"], "rate_limited");
  EXPECT_GE(std::atoi(header(limited, "Retry-After").c_str()), 1);
  // The same counters as a login's.
  EXPECT_EQ(env.login("bob@example.com", "user-password").status, 429);
  EXPECT_EQ(env.call("GET", "/v1/users/me", bob).status, 200);  // the session itself stays
}

// An auth plugin built against ABI minor 1 has no list_users/set_password slots: 501, and the
// other routes work.
TEST(InfoSqliteUsers, APluginOfMinor1Answers501ForTheRoutesOfMinor2) {
  void* lib = dlopen(DFD_TEST_AUTH_MINOR1, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  void* sym = dlsym(lib, kEntrySymbol);
  ASSERT_NE(sym, nullptr);
  auto entry = reinterpret_cast<PluginEntryFn*>(*static_cast<void* const*>(sym));
  const PluginDescriptor* d = entry();
  ASSERT_EQ(d->abi_minor, 1u);
  FakeHost plugin_host;
  Status error;
  Plugin* made = d->create(plugin_host, &error);
  ASSERT_NE(made, nullptr) << error.to_string();
  auto* old_auth = static_cast<Auth*>(made);
  {
    InfoEnv env({}, nullptr, true, old_auth);
    ASSERT_TRUE(env.status.ok()) << env.status.to_string();
    EXPECT_NE(env.host->log_text().find("predates ABI minor 2"), std::string::npos);
    std::string admin = env.admin_token();
    auto list = env.call("GET", "/v1/users", admin);
    EXPECT_EQ(list.status, 501) << list.body;
    EXPECT_EQ(error_of(list)["code"], "not_supported");
    auto pw = env.call("POST", "/v1/users/1/password", admin, {},
                       password_body("admin-new-password", kAdminPw));
    EXPECT_EQ(pw.status, 501) << pw.body;
    EXPECT_EQ(env.login(kAdmin, kAdminPw).status, 200);  // the password did not change
    EXPECT_EQ(env.call("GET", "/v1/users/me", admin).status, 200);
  }
  d->destroy(made);
  dlclose(lib);
}

// ---------------------------------------------------------------------------------------------
TEST(InfoSqliteHealth, CatalogAndBroker) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  Health h = env.info.get()->health();
  EXPECT_TRUE(h.healthy) << h.detail;
  env.broker.is_connected = false;
  h = env.info.get()->health();
  EXPECT_FALSE(h.healthy);
  EXPECT_NE(h.detail.find("broker disconnected"), std::string::npos);
}

TEST(InfoSqliteLifecycle, HandlersAfterStopAnswer503AndEventsAreNotAcked) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  std::string t = env.admin_token();
  env.info.stop();
  EXPECT_EQ(env.call("GET", "/v1/files", t).status, 503);
  EXPECT_FALSE(env.heartbeat("fs-a1", "zone-a").ok());  // redelivered to the next run
}

TEST(InfoSqliteConcurrency, ManifestsWhileEventsArrive) {
  InfoEnv env({{"manifests_per_minute", std::int64_t(0)}});  // 800 manifests of one user at once
  ASSERT_TRUE(env.status.ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  std::string t = env.user_token();
  std::string path = "/v1/files/" + std::to_string(env.file_id(1));
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        auto r = env.call("GET", path, t);
        (r.status == 200 ? ok : bad)++;
      }
    });
  }
  threads.emplace_back([&] {
    for (int k = 0; k < 200; ++k) {
      EXPECT_TRUE(env.announce("fs-b" + std::to_string(k % 5), "zone-b", 2 + k % 20).ok());
      EXPECT_TRUE(env.heartbeat("fs-a1", "zone-a").ok());
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 800);
  EXPECT_EQ(bad.load(), 0);
  // Every token was announced once (concurrent ones may share an event).
  std::size_t records = 0;
  for (auto& [key, body] : env.broker.sent()) {
    auto recs = events::decode_token_issued_batch(body);
    ASSERT_TRUE(recs.ok()) << body;
    records += recs->size();
  }
  EXPECT_EQ(records, 800u);
  EXPECT_LE(env.broker.sent().size(), 800u);
  EXPECT_EQ(json::parse(env.call("GET", "/v1/files", t).body)["total"], 21);
}

// The token.issued events published so far: token hash → how many events carried it.
std::map<std::string, int> announced_hashes(FakeBroker& broker, std::size_t* events = nullptr) {
  std::map<std::string, int> seen;
  auto sent = broker.sent();
  if (events) *events = sent.size();
  for (auto& [key, body] : sent) {
    EXPECT_EQ(key, events::kTokenIssued);
    std::vector<Status> skipped;
    auto recs = events::decode_token_issued_batch(body, &skipped);
    EXPECT_TRUE(recs.ok()) << body;
    EXPECT_TRUE(skipped.empty()) << body;
    if (!recs.ok()) continue;
    EXPECT_LE(recs->size(), 256u);
    EXPECT_GE(recs->size(), 1u);
    // One record: the single-record form, which every file server version understands.
    if (recs->size() == 1) {
      EXPECT_TRUE(events::decode_token_issued(body).ok()) << body;
    }
    for (auto& r : *recs) seen[r.token_hash]++;
  }
  return seen;
}

// 32 threads ask for manifests at once through a broker whose confirms take 5 ms: the tokens
// are grouped into fewer events, one in flight at a time, each token in exactly one event.
TEST(InfoSqliteTokenBatching, ConcurrentManifestsShareConfirmedEvents) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  std::string t = env.user_token();
  std::string path = "/v1/files/" + std::to_string(env.file_id(1));
  env.broker.confirm_delay_ms = 5;
  constexpr int kThreads = 32, kEach = 5;
  std::mutex mu;
  std::vector<std::string> tokens;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < kEach; ++k) {
        auto r = env.call("GET", path, t);
        if (r.status != 200) {
          ++bad;
          continue;
        }
        std::lock_guard<std::mutex> g(mu);
        tokens.push_back(json::parse(r.body)["download_token"].get<std::string>());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  ASSERT_EQ(tokens.size(), static_cast<std::size_t>(kThreads * kEach));

  std::size_t events = 0;
  auto seen = announced_hashes(env.broker, &events);
  EXPECT_LT(events, tokens.size());  // grouped
  EXPECT_GE(events, 1u);
  EXPECT_EQ(seen.size(), tokens.size());
  for (auto& tok : tokens) EXPECT_EQ(seen[sha256_hex(tok)], 1) << "token in 0 or >1 events";
  EXPECT_EQ(env.broker.max_in_flight.load(), 1);  // one publish at a time
  EXPECT_EQ(env.host->metric("dfd_info_tokens_issued_total"), kThreads * kEach);
  EXPECT_EQ(env.host->metric("dfd_info_token_events_total"), static_cast<double>(events));
  EXPECT_TRUE(env.auth.revoked.empty());
}

// Every other publish fails: each requester of a failed event gets 503 and its token is
// withdrawn; each requester of a confirmed event gets its token, announced exactly once.
TEST(InfoSqliteTokenBatching, AFailedEventFailsEveryRequesterInIt) {
  InfoEnv env;
  ASSERT_TRUE(env.status.ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  std::string t = env.user_token();
  std::string path = "/v1/files/" + std::to_string(env.file_id(1));
  env.broker.confirm_delay_ms = 5;
  env.broker.fail_odd_publishes = true;
  constexpr int kThreads = 32;
  std::mutex mu;
  std::vector<std::string> ok_tokens;
  std::atomic<int> unavailable{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 3; ++k) {
        auto r = env.call("GET", path, t);
        if (r.status == 503) {
          ++unavailable;
          EXPECT_EQ(r.body.find("download_token"), std::string::npos);
          EXPECT_EQ(r.body.find("dl-"), std::string::npos);
          EXPECT_EQ(header(r, "Retry-After"), "1");
        } else if (r.status == 200) {
          std::lock_guard<std::mutex> g(mu);
          ok_tokens.push_back(json::parse(r.body)["download_token"].get<std::string>());
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(unavailable.load(), 0);
  EXPECT_GT(ok_tokens.size(), 0u);
  EXPECT_EQ(unavailable.load() + static_cast<int>(ok_tokens.size()), kThreads * 3);

  auto seen = announced_hashes(env.broker);
  EXPECT_EQ(seen.size(), ok_tokens.size());  // confirmed events hold exactly the 200s' tokens
  std::set<std::string> ok_hashes;
  for (auto& tok : ok_tokens) {
    std::string h = sha256_hex(tok);
    ok_hashes.insert(h);
    EXPECT_EQ(seen[h], 1);
    EXPECT_EQ(env.auth.verify_download_token(tok, hex64(1)), TokenVerdict::kValid);
  }
  // Every other issued token was withdrawn, and no withdrawn token was announced.
  std::lock_guard<std::mutex> g(env.auth.mu);
  EXPECT_EQ(env.auth.download.size(), static_cast<std::size_t>(kThreads * 3));
  EXPECT_EQ(env.auth.revoked.size(), static_cast<std::size_t>(unavailable.load()));
  for (auto& h : env.auth.revoked) {
    EXPECT_EQ(ok_hashes.count(h), 0u);
    EXPECT_EQ(seen.count(h), 0u);
  }
  EXPECT_EQ(env.host->metric("dfd_info_token_publish_failures_total"), unavailable.load());
}

// A broker that does not confirm in time: every requester (in the publishing batch or waiting
// behind it) answers 503 within about confirm_timeout_ms.
TEST(InfoSqliteTokenBatching, ConfirmTimeoutHoldsPerRequest) {
  InfoEnv env({{"confirm_timeout_ms", std::int64_t(100)}});
  ASSERT_TRUE(env.status.ok());
  ASSERT_TRUE(env.announce("fs-a1", "zone-a", 1).ok());
  std::string t = env.user_token();
  std::string path = "/v1/files/" + std::to_string(env.file_id(1));
  env.broker.confirm_delay_ms = 10000;
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> unavailable{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      if (env.call("GET", path, t).status == 503) ++unavailable;
    });
  }
  for (auto& th : threads) th.join();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(unavailable.load(), 16);
  EXPECT_LT(took, 2s);
  EXPECT_TRUE(env.broker.sent().empty());
  EXPECT_EQ(env.auth.revoked.size(), 16u);
}

}  // namespace
}  // namespace dfd::test
