// dfd_pg's pool against a real PostgreSQL: prepared statements, the bounded lease, the retry of a
// retry-safe call on a lost connection, transactions, and recovery from a killed server.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "pg_test_util.hpp"

namespace {

using dfd::pg::Params;
using dfd::pg::Pool;
using dfd::pg::Retry;
using dfd::pg::Statement;
using dfd::pgtest::open_pool;
using dfd::test::shared_postgres;
using namespace std::chrono_literals;

constexpr Statement kInsert{"t_insert", "INSERT INTO items(name, n) VALUES($1, $2)"};
constexpr Statement kSelect{"t_select", "SELECT name, n, note FROM items WHERE name = $1"};
constexpr Statement kSleep{"t_sleep", "SELECT pg_sleep($1::float8), 7"};
constexpr Statement kPid{"t_pid", "SELECT pg_backend_pid()"};
constexpr Statement kCountPrepared{"t_count_prepared",
                                   "SELECT count(*) FROM pg_prepared_statements"};

class PgPool : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& pg = shared_postgres();
    ASSERT_TRUE(pg.ok()) << pg.error();
    dsn_ = pg.create_database("pgpool");
    pool_ = open_pool(pg, dsn_);
    ASSERT_TRUE(pool_);
    auto c = pool_->lease();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(
        c.value()
            ->exec("CREATE TABLE items(name TEXT PRIMARY KEY, n BIGINT NOT NULL, note TEXT)")
            .ok());
  }
  // Terminates every session of user dfd on the test database (an admin kill).
  void terminate_sessions() {
    auto r = shared_postgres().psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'pgpool' "
        "AND usename = 'dfd'");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  std::string dsn_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(PgPool, TextParamsAndSafeReads) {
  ASSERT_TRUE(pool_->run(kInsert, {"a", dfd::pg::param(std::int64_t{-42})}, Retry::kNo).ok());
  auto dup = pool_->run(kInsert, {"a", "1"}, Retry::kNo);
  EXPECT_EQ(dup.status().code(), dfd::Code::kAlreadyExists);
  EXPECT_EQ(dup.status().message().find("(a)"), std::string::npos) << "no DETAIL with values";
  auto r = pool_->run(kSelect, {"a"}, Retry::kSafe);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 1);
  EXPECT_EQ(r->text(0, 0), "a");
  EXPECT_EQ(r->int64(0, 1), -42);
  EXPECT_TRUE(r->null(0, 2));
  EXPECT_EQ(r->text(0, 2), "");
  EXPECT_EQ(r->int64(0, 0, 99), 99) << "not an integer: the fallback";
  EXPECT_EQ(r->text(5, 0), "") << "outside the result";
  EXPECT_EQ(r->int64(0, 9, -1), -1);
  auto none = pool_->run(kSelect, {"zz"}, Retry::kSafe);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->size(), 0);
  // NULL parameter.
  auto bad = pool_->run(kInsert, {"b", std::nullopt}, Retry::kNo);
  EXPECT_FALSE(bad.ok());
}

TEST_F(PgPool, StatementsArePreparedOncePerConnection) {
  auto c = pool_->lease();
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.value()->run(kSelect, {"x"}).ok());
  }
  auto n = c.value()->run(kCountPrepared);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->int64(0, 0), 2) << "t_select and t_count_prepared, each once";
}

TEST_F(PgPool, LeaseWaitsForAFreeConnectionThenGivesUp) {
  auto pool = dfd::pg::Pool::open(
      [&] {
        auto s = dfd::pgtest::settings_for(shared_postgres(), dsn_, 1);
        s.connect_timeout_ms = 400;
        return s;
      }(),
      "pg-test");
  ASSERT_TRUE(pool.ok());
  auto held = pool.value()->lease();
  ASSERT_TRUE(held.ok());
  auto second = pool.value()->lease();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), dfd::Code::kResourceExhausted);
  EXPECT_EQ(pool.value()->stats().lease_timeouts, 1);
  EXPECT_EQ(pool.value()->stats().open, 1) << "bounded by pool_size";
  // Returned meanwhile: the waiter gets it.
  std::optional<Pool::Lease> h(std::move(held.value()));
  std::thread giver([&] {
    std::this_thread::sleep_for(100ms);
    h.reset();
  });
  auto third = pool.value()->lease();
  giver.join();
  EXPECT_TRUE(third.ok()) << third.status().to_string();
}

TEST_F(PgPool, IdleConnectionsClosedByTheServerAreReplaced) {
  auto before = pool_->run(kPid, {}, Retry::kNo);
  ASSERT_TRUE(before.ok());
  terminate_sessions();
  std::this_thread::sleep_for(200ms);
  // Not retry-safe, yet it works: the dead idle connection is noticed before it is used.
  auto insert = pool_->run(kInsert, {"after", "1"}, Retry::kNo);
  ASSERT_TRUE(insert.ok()) << insert.status().to_string();
  auto after = pool_->run(kPid, {}, Retry::kNo);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(before->int64(0, 0), after->int64(0, 0));
  EXPECT_GE(pool_->stats().lost, 1);
}

TEST_F(PgPool, RetrySafeCallIsRetriedOnceWhenItsConnectionIsLost) {
  for (Retry retry : {Retry::kSafe, Retry::kNo}) {
    std::thread killer([&] {
      std::this_thread::sleep_for(500ms);
      terminate_sessions();
    });
    auto r = pool_->run(kSleep, {"1.5"}, retry);
    killer.join();
    if (retry == Retry::kSafe) {
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      EXPECT_EQ(r->int64(0, 1), 7);
      EXPECT_EQ(pool_->stats().retries, 1);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), dfd::Code::kUnavailable) << r.status().to_string();
      EXPECT_EQ(pool_->stats().retries, 1) << "not retried";
    }
  }
}

TEST_F(PgPool, TransactionCommitsOrRollsBack) {
  dfd::Status ok = pool_->transaction(Retry::kNo, [](dfd::pg::Connection& c) -> dfd::Status {
    DFD_RETURN_IF_ERROR(c.run(kInsert, {"t1", "1"}).status());
    return c.run(kInsert, {"t2", "2"}).status();
  });
  ASSERT_TRUE(ok.ok()) << ok.to_string();
  dfd::Status bad = pool_->transaction(Retry::kNo, [](dfd::pg::Connection& c) -> dfd::Status {
    DFD_RETURN_IF_ERROR(c.run(kInsert, {"t3", "3"}).status());
    return c.run(kInsert, {"t1", "again"}).status();  // fails: rolls t3 back
  });
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(pool_->run(kSelect, {"t2"}, Retry::kSafe)->size(), 1);
  EXPECT_EQ(pool_->run(kSelect, {"t3"}, Retry::kSafe)->size(), 0);
  // The connection went back clean: no transaction left open.
  EXPECT_EQ(pool_->stats().open, pool_->stats().idle);
}

TEST_F(PgPool, WrongPasswordIsReportedWithoutIt) {
  auto s = dfd::pgtest::settings_for(shared_postgres(), dsn_);
  s.password = "not-the-password-xyz";
  auto p = Pool::open(s, "pg-test");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), dfd::Code::kUnavailable);
  EXPECT_EQ(p.status().message().find("not-the-password-xyz"), std::string::npos);
  EXPECT_NE(p.status().message().find("pgpool"), std::string::npos) << p.status().message();
}

// A server of its own: killed (SIGKILL, like a crash) and restarted while threads keep calling.
TEST(PgRecovery, PoolRecoversWhenThePostgresIsKilledAndRestarted) {
  dfd::test::PostgresInstance pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  auto pool = open_pool(pg, pg.dsn(), 4);
  ASSERT_TRUE(pool);
  std::atomic<bool> stop{false};
  std::atomic<int> ok_before{0}, ok_after{0}, failed{0};
  std::atomic<bool> restarted{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200000 && !stop; ++i) {
        auto r = pool->run(kPid, {}, Retry::kSafe);
        if (r.ok()) {
          (restarted ? ok_after : ok_before)++;
        } else {
          failed++;
          std::this_thread::sleep_for(20ms);
        }
      }
    });
  }
  auto wait_for = [&](std::atomic<int>& n, int want) {
    for (int i = 0; i < 600 && n < want; ++i) std::this_thread::sleep_for(50ms);
  };
  wait_for(ok_before, 50);
  pg.kill();
  const int failed_at_kill = failed;
  std::this_thread::sleep_for(300ms);
  EXPECT_GT(failed.load(), failed_at_kill) << "calls fail while the server is down";
  ASSERT_TRUE(pg.restart());
  restarted = true;
  wait_for(ok_after, 50);
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_GE(ok_before.load(), 50);
  EXPECT_GE(ok_after.load(), 50) << "the pool serves again after the restart";
  auto st = pool->stats();
  EXPECT_LE(st.open, 4);
  EXPECT_GE(st.lost, 1);
  // Fast shutdown + restart while idle: the first non-retry-safe call already works.
  ASSERT_TRUE(pg.restart());
  auto again = pool->run(kPid, {}, Retry::kNo);
  EXPECT_TRUE(again.ok()) << again.status().to_string();
}

}  // namespace

namespace {

// scripts/postgres --tls: the DSN asks for verify-full against the private CA, and the server
// refuses TCP clients without TLS.
TEST(PgTls, PoolConnectsOverVerifiedTls) {
  dfd::test::PostgresInstance pg(/*tls=*/true);
  ASSERT_TRUE(pg.ok()) << pg.error();
  EXPECT_NE(pg.dsn().find("sslmode=verify-full"), std::string::npos) << pg.dsn();
  auto pool = open_pool(pg, pg.dsn(), 1);
  ASSERT_TRUE(pool);
  constexpr Statement kSsl{"t_ssl", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"};
  auto r = pool->run(kSsl, {}, Retry::kSafe);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->boolean(0, 0));
  std::string plain = pg.dsn().substr(0, pg.dsn().find('?')) + "?sslmode=disable";
  auto refused = Pool::open(dfd::pgtest::settings_for(pg, plain), "pg-test");
  EXPECT_FALSE(refused.ok()) << "no TCP client without TLS";
  // A CA that did not sign the server's certificate: refused by the client.
  ASSERT_TRUE(dfd::test::make_pki(pg.dir() + "/other-ca", {"x"}));
  std::string other = pg.dsn().substr(0, pg.dsn().find('?')) +
                      "?sslmode=verify-full&sslrootcert=" + pg.dir() + "/other-ca/ca.pem";
  auto untrusted = Pool::open(dfd::pgtest::settings_for(pg, other), "pg-test");
  EXPECT_FALSE(untrusted.ok());
}

}  // namespace
