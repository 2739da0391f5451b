// info-postgres: several information servers on one PostgreSQL database (two plugin instances,
// each with its own FakeHost, doubles and memory view, on one database of a real PostgreSQL from
// scripts/postgres): the same catalog ids whatever the order events arrive in, what one stored is
// listed by the other, a login failure counted on one throttles on the other, N servers write a
// heartbeat once, and both recover when PostgreSQL restarts mid-run. info_sqlite_test runs the
// single-server behaviour against info-postgres too (info_postgres_api).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "info_env.hpp"
#include "postgres_fixture.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

// Polls `ok` every 20 ms for at most `limit` (a bound, not a timing assertion).
template <typename Fn>
bool eventually(Fn ok, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return ok();
}

// uid → id of every listed file.
std::map<std::string, std::int64_t> ids_of(InfoEnv& env) {
  std::map<std::string, std::int64_t> out;
  auto r = env.call("GET", "/v1/files", env.admin_token(), {{"limit", "1000"}});
  EXPECT_EQ(r.status, 200) << r.body;
  const json listing = json::parse(r.body);
  for (const auto& f : listing["files"]) {
    out[f["uid"].get<std::string>()] = f["id"].get<std::int64_t>();
  }
  return out;
}

// psql's -At output of `query` on the database of `dsn` (the test binary's PostgreSQL).
std::string sql(const std::string& dsn, const std::string& query) {
  std::string db = dsn.substr(dsn.rfind('/') + 1);
  db = db.substr(0, db.find('?'));
  auto r = shared_postgres().psql(query, db);
  EXPECT_EQ(r.status, 0) << r.output;
  return r.output;
}

// The xmin (the transaction that wrote the row) of a server's heartbeat row.
std::string row_version(const std::string& dsn, const std::string& server) {
  return sql(dsn, "SELECT xmin FROM info_servers WHERE server_id = '" + server + "'");
}

TEST(InfoPostgresConfig, RefusesBadConfigWithoutConnecting) {
  struct Case {
    std::map<std::string, ConfigValue> cfg;
    const char* expect;
  };
  const std::string dsn = "postgresql://dfd@127.0.0.1:1/dfd";  // nothing listens: never used
  for (const Case& c : std::vector<Case>{
           {{}, "dsn"},
           {{{"dsn", dsn}, {"db", std::string("/tmp/x.db")}}, "'db'"},
           {{{"dsn", dsn}, {"refresh_ms", std::int64_t(0)}}, "refresh_ms"},
           {{{"dsn", std::string("postgresql://dfd:secret@127.0.0.1:1/dfd")}}, "dsn"},
       }) {
    FakeHost host(c.cfg, "info-postgres");
    auto p = load_plugin("info-postgres", host, false);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), Code::kInvalidArgument) << p.status().to_string();
    EXPECT_NE(p.status().message().find(c.expect), std::string::npos) << p.status().message();
    EXPECT_EQ(p.status().message().find("secret"), std::string::npos) << p.status().message();
  }
  // A good config loads (create() only: no connection, as `dfd-host --check`).
  FakeHost host({{"dsn", dsn}, {"refresh_ms", std::int64_t(1000)}}, "info-postgres");
  EXPECT_TRUE(load_plugin("info-postgres", host, false).ok());
}

TEST(InfoPostgresShared, SameCatalogIdsWhateverTheEventOrder) {
  InfoEnv a;
  ASSERT_TRUE(a.status.ok()) << a.status.to_string();
  InfoEnv b({}, &a.store);
  ASSERT_TRUE(b.status.ok()) << b.status.to_string();
  // Each server consumes every event on its own queue, in its own order: a gets 1..12, b gets
  // 12..1, at the same time.
  constexpr int kFiles = 12;
  std::thread ta([&] {
    for (int n = 1; n <= kFiles; ++n) EXPECT_TRUE(a.announce("fs-a1", "zone-a", n).ok());
  });
  std::thread tb([&] {
    for (int n = kFiles; n >= 1; --n) EXPECT_TRUE(b.announce("fs-a1", "zone-a", n).ok());
  });
  ta.join();
  tb.join();
  auto ia = ids_of(a), ib = ids_of(b);
  ASSERT_EQ(ia.size(), static_cast<std::size_t>(kFiles));
  EXPECT_EQ(ia, ib);
  // Dense ids 1..N, as one SQLite catalog assigns them.
  std::set<std::int64_t> ids;
  for (auto& [uid, id] : ia) ids.insert(id);
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), kFiles);
  // Both list in id order.
  auto la = a.call("GET", "/v1/files", a.admin_token()),
       lb = b.call("GET", "/v1/files", b.admin_token());
  EXPECT_EQ(json::parse(la.body)["files"], json::parse(lb.body)["files"]);
}

TEST(InfoPostgresShared, WhatOneStoredTheOtherListsAndServes) {
  InfoEnv a;
  ASSERT_TRUE(a.status.ok()) << a.status.to_string();
  InfoEnv b({}, &a.store);
  ASSERT_TRUE(b.status.ok()) << b.status.to_string();
  // Only a hears of file 7 and of fs-b1 (b missed the events: the refresh brings them).
  ASSERT_TRUE(a.announce("fs-b1", "zone-b", 7).ok());
  ASSERT_TRUE(a.heartbeat("fs-b1", "zone-b").ok());
  std::string tb = b.user_token();
  ASSERT_TRUE(eventually([&] { return ids_of(b).count(hex64(7)) == 1; })) << b.host->log_text();
  const std::int64_t id = ids_of(b)[hex64(7)];
  EXPECT_EQ(id, a.file_id(7));
  auto m = b.call("GET", "/v1/files/" + std::to_string(id), tb);
  ASSERT_EQ(m.status, 200) << m.body;
  json j = json::parse(m.body);
  ASSERT_EQ(j["locations"].size(), 1u) << m.body;
  EXPECT_EQ(j["locations"][0]["server_id"], "fs-b1");
  EXPECT_EQ(j["uid"], hex64(7));

  // A third server started later loads it all at start.
  InfoEnv c({{"refresh_ms", std::int64_t(3600000)}}, &a.store);
  ASSERT_TRUE(c.status.ok()) << c.status.to_string();
  EXPECT_EQ(ids_of(c)[hex64(7)], id);
  auto mc = c.call("GET", "/v1/files/" + std::to_string(id), c.user_token());
  EXPECT_EQ(mc.status, 200) << mc.body;
}

TEST(InfoPostgresShared, ALoginFailureOnOneThrottlesTheOther) {
  InfoEnv a({{"login_max_failures", std::int64_t(3)}});
  ASSERT_TRUE(a.status.ok()) << a.status.to_string();
  InfoEnv b({{"login_max_failures", std::int64_t(3)}}, &a.store);
  ASSERT_TRUE(b.status.ok()) << b.status.to_string();
  // Two failures on a, one on b: the pair's limit (3) is reached across both.
  EXPECT_EQ(a.login(kAdmin, "wrong-1").status, 401);
  EXPECT_EQ(a.login(kAdmin, "wrong-2").status, 401);
  EXPECT_EQ(b.login(kAdmin, "wrong-3").status, 401);
  for (InfoEnv* env : {&a, &b}) {
    auto r = env->login(kAdmin, kAdminPw);  // even the right password waits
    EXPECT_EQ(r.status, 429) << r.body;
    bool retry_after = false;
    for (auto& [k, v] : r.headers) retry_after |= k == "Retry-After" && std::stoi(v) > 0;
    EXPECT_TRUE(retry_after);
  }
  // Another address is not the pair: it logs in, on either server, and clears the account.
  EXPECT_EQ(b.login(kAdmin, kAdminPw, "10.9.9.9").status, 200);
  // The window passes (both clocks move): the pair may try again.
  a.host->advance(301s);
  b.host->advance(301s);
  EXPECT_EQ(a.login(kAdmin, kAdminPw).status, 200);
  // Failures that left the window are deleted by the servers' periodic upkeep.
  EXPECT_TRUE(eventually([&] {
    return sql(a.store, "SELECT count(*) FROM info_login_failures") == "0\n";
  })) << sql(a.store, "SELECT kind, key, at_ms FROM info_login_failures");
}

TEST(InfoPostgresShared, AHeartbeatHeardByTwoServersIsWrittenOnce) {
  InfoEnv a;
  ASSERT_TRUE(a.status.ok()) << a.status.to_string();
  InfoEnv b({}, &a.store);
  ASSERT_TRUE(b.status.ok()) << b.status.to_string();
  ASSERT_TRUE(a.heartbeat("fs-c1", "zone-c").ok());
  const std::string first = row_version(a.store, "fs-c1");
  ASSERT_FALSE(first.empty());
  // b hears the same heartbeat a moment later: the stored one is recent, the row stays.
  ASSERT_TRUE(b.heartbeat("fs-c1", "zone-c").ok());
  EXPECT_EQ(row_version(a.store, "fs-c1"), first);
  // Many more within the write interval from both: still the same row version.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a.heartbeat("fs-c1", "zone-c").ok());
    ASSERT_TRUE(b.heartbeat("fs-c1", "zone-c").ok());
  }
  EXPECT_EQ(row_version(a.store, "fs-c1"), first);
  // Later than the write interval: written again (by one of them), and both see the server live.
  a.host->advance(3s);
  b.host->advance(3s);
  ASSERT_TRUE(a.heartbeat("fs-c1", "zone-c").ok());
  ASSERT_TRUE(b.heartbeat("fs-c1", "zone-c").ok());
  EXPECT_NE(row_version(a.store, "fs-c1"), first);
  // A changed zone is written at once.
  const std::string before = row_version(a.store, "fs-c1");
  ASSERT_TRUE(b.heartbeat("fs-c1", "zone-d").ok());
  EXPECT_NE(row_version(a.store, "fs-c1"), before);
}

TEST(InfoPostgresOutage, BothServersRecoverWhenPostgresRestarts) {
  PostgresInstance pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  std::string dsn = pg.create_database("outage");
  ASSERT_FALSE(dsn.empty());
  std::map<std::string, ConfigValue> cfg = pg.plugin_config(dsn);
  cfg["connect_timeout_ms"] = std::int64_t(1000);
  InfoEnv a(cfg, &dsn);
  ASSERT_TRUE(a.status.ok()) << a.status.to_string();
  InfoEnv b(cfg, &dsn);
  ASSERT_TRUE(b.status.ok()) << b.status.to_string();
  ASSERT_TRUE(a.announce("fs-a1", "zone-a", 1).ok());
  ASSERT_TRUE(a.heartbeat("fs-a1", "zone-a").ok());
  ASSERT_TRUE(b.announce("fs-a1", "zone-a", 1).ok());
  ASSERT_TRUE(b.heartbeat("fs-a1", "zone-a").ok());
  const std::string ta = a.user_token(), tb = b.user_token();
  const std::int64_t id = a.file_id(1);

  pg.kill();  // a crash, mid-run
  ASSERT_TRUE(eventually([&] { return !pg.running(); }));
  for (InfoEnv* env : {&a, &b}) {
    Health h = env->info.get()->health();
    EXPECT_FALSE(h.healthy) << h.detail;
    EXPECT_EQ(h.detail.find("catalog ok"), std::string::npos) << h.detail;
    // A login cannot be throttled: 503 JSON, no guess goes unchecked.
    auto l = env->login(kAdmin, kAdminPw);
    EXPECT_EQ(l.status, 503) << l.body;
    EXPECT_TRUE(json::parse(l.body, nullptr, false).contains("error")) << l.body;
    // An event cannot be stored: refused (the broker redelivers it), nothing crashes.
    EXPECT_FALSE(env->announce("fs-a1", "zone-a", 2).ok());
  }
  // A manifest comes from the memory view: 200 (with auth-postgres its token would fail: 503).
  auto m = a.call("GET", "/v1/files/" + std::to_string(id), ta);
  EXPECT_TRUE(m.status == 200 ||
              (m.status == 503 && json::parse(m.body, nullptr, false).contains("error")))
      << m.status << " " << m.body;

  ASSERT_TRUE(pg.restart());
  for (InfoEnv* env : {&a, &b}) {
    ASSERT_TRUE(eventually([&] { return env->info.get()->health().healthy; }))
        << env->info.get()->health().detail;
    EXPECT_EQ(env->login(kAdmin, kAdminPw).status, 200);
  }
  // The redelivered event is stored once; both list it with the same id.
  ASSERT_TRUE(a.announce("fs-a1", "zone-a", 2).ok());
  ASSERT_TRUE(b.announce("fs-a1", "zone-a", 2).ok());
  EXPECT_EQ(a.file_id(2), b.file_id(2));
  EXPECT_EQ(a.file_id(2), 2);
  auto mb = b.call("GET", "/v1/files/2", tb);
  EXPECT_EQ(mb.status, 200) << mb.body;
}

}  // namespace
}  // namespace dfd::test
