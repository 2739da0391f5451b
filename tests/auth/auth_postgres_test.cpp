// auth-postgres beyond the conformance kit: what several instances on one database share
// (user tokens, disabled users, remembered and revoked download tokens), auth-sqlite's user
// semantics, the purge, config errors, secrets kept out of logs, and the issue rate next to
// auth-sqlite's.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#define DFD_AUTH_CONFORMANCE_INTERFACE_ONLY
#include "auth_subjects.hpp"

namespace {

using dfd::Auth;
using dfd::Code;
using dfd::DownloadTokenRecord;
using dfd::TokenVerdict;
using dfd::authtest::PluginSubject;
using dfd::test::shared_postgres;
using std::chrono::seconds;

constexpr const char* kUid = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr const char* kOtherUid =
    "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

class AuthPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = dfd::authtest::postgres_config("authpg");
    ASSERT_FALSE(cfg_.empty());
  }
  // One more instance (one more "info server") on the test's database.
  std::unique_ptr<PluginSubject> open(std::map<std::string, dfd::test::ConfigValue> extra = {}) {
    auto cfg = cfg_;
    for (auto& [k, v] : extra) cfg[k] = v;
    auto s = std::make_unique<PluginSubject>("auth-postgres", cfg);
    EXPECT_TRUE(s->loaded()) << s->error().to_string();
    return s->loaded() ? std::move(s) : nullptr;
  }
  // Rows of `sql` on the test's database (psql -At: one line per row, columns joined by '|').
  std::string query(const std::string& sql) {
    const std::string& dsn = std::get<std::string>(cfg_.at("dsn"));
    std::string db = dsn.substr(dsn.rfind('/') + 1);
    auto r = shared_postgres().psql(sql, db.substr(0, db.find('?')));
    EXPECT_EQ(r.status, 0) << r.output;
    return r.output;
  }
  std::map<std::string, dfd::test::ConfigValue> cfg_;
};

TEST_F(AuthPostgres, AUserTokenFromOneInstanceIsValidThroughAnother) {
  auto a = open(), b = open();
  ASSERT_TRUE(a && b);
  auto u = a->auth().create_user("ann@example.com", "Ann", "pw one", "admin");
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  // Logged in on A, known on B.
  auto login = b->auth().check_password("ANN@example.com", "pw one");
  ASSERT_TRUE(login.ok()) << login.status().to_string();
  EXPECT_EQ(login->id, u->id);
  auto t = a->auth().issue_user_token(u->id, seconds(600));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto v = b->auth().verify_user_token(t->token);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v->id, u->id);
  EXPECT_EQ(v->role, "admin");
  // Logged out on B: gone on A.
  ASSERT_TRUE(b->auth().revoke_user_token(t->token).ok());
  EXPECT_EQ(a->auth().verify_user_token(t->token).status().code(), Code::kUnauthenticated);
  // One e-mail, one user, whichever instance is asked.
  EXPECT_EQ(b->auth().create_user("Ann@Example.com", "Ann 2", "x", "user").status().code(),
            Code::kAlreadyExists);
}

TEST_F(AuthPostgres, ADisabledUserIsDisabledForEveryInstance) {
  auto a = open(), b = open();
  ASSERT_TRUE(a && b);
  auto u = a->auth().create_user("dan@example.com", "Dan", "pw", "user");
  ASSERT_TRUE(u.ok());
  auto t = b->auth().issue_user_token(u->id, seconds(600));
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(a->auth().set_user_disabled(u->id, true).ok());
  EXPECT_TRUE(b->auth().user_disabled(u->id).value());
  EXPECT_EQ(b->auth().verify_user_token(t->token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(b->auth().check_password("dan@example.com", "pw").status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(b->auth().check_password("dan@example.com", "wrong").status().code(),
            Code::kUnauthenticated)
      << "the wrong password learns nothing";
  // A token issued while disabled is refused too (checked on the row, not only by deletion).
  auto late = a->auth().issue_user_token(u->id, seconds(600));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(b->auth().verify_user_token(late->token).status().code(), Code::kUnauthenticated);
  ASSERT_TRUE(b->auth().set_user_disabled(u->id, false).ok());
  EXPECT_FALSE(a->auth().user_disabled(u->id).value());
  EXPECT_TRUE(a->auth().check_password("dan@example.com", "pw").ok());
  EXPECT_EQ(a->auth().set_user_disabled(987654, true).code(), Code::kNotFound);
  EXPECT_EQ(a->auth().find_user_by_id(u->id)->email, "dan@example.com");
}

// ABI minor 2: a password changed through one instance holds for every instance at once (the old
// one refused, every session ended), with a new salt in the table; the listing is the same.
TEST_F(AuthPostgres, APasswordChangedThroughOneInstanceHoldsForEvery) {
  auto a = open(), b = open();
  ASSERT_TRUE(a && b);
  auto u = a->auth().create_user("fay@example.com", "Fay", "old password", "user");
  ASSERT_TRUE(u.ok());
  auto t = b->auth().issue_user_token(u->id, seconds(600));
  ASSERT_TRUE(t.ok());
  const std::string salt_before =
      query("SELECT salt FROM auth_users WHERE id = " + std::to_string(u->id));
  ASSERT_TRUE(a->auth().set_password(u->id, "new password").ok());
  EXPECT_NE(query("SELECT salt FROM auth_users WHERE id = " + std::to_string(u->id)), salt_before);
  EXPECT_EQ(b->auth().check_password("fay@example.com", "old password").status().code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(b->auth().check_password("fay@example.com", "new password").ok());
  EXPECT_EQ(b->auth().verify_user_token(t->token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(query("SELECT count(*) FROM auth_users WHERE password_hash LIKE '%new password%'"),
            "0\n");
  auto listed = b->auth().list_users(10, 0);
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].user.email, "fay@example.com");
  EXPECT_EQ(b->auth().count_users().value(), 1);
}

TEST_F(AuthPostgres, DownloadTokensAreRememberedAndRevokedAcrossInstances) {
  auto info1 = open(), info2 = open();
  ASSERT_TRUE(info1 && info2);
  DownloadTokenRecord rec;
  auto t = info1->auth().issue_download_token(kUid, 7, seconds(600), &rec);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(info2->auth().verify_download_token(t->token, kUid), TokenVerdict::kValid);
  EXPECT_EQ(info2->auth().verify_download_token(t->token, kOtherUid), TokenVerdict::kWrongScope);
  // The token.issued event reaching the other instance: harmless, the first record wins.
  DownloadTokenRecord changed = rec;
  changed.scope = kOtherUid;
  ASSERT_TRUE(info2->auth().remember_download_token(changed).ok());
  EXPECT_EQ(info1->auth().verify_download_token(t->token, kUid), TokenVerdict::kValid);
  // Revoked through one, refused by both.
  ASSERT_TRUE(info2->auth().revoke_download_token(rec.token_hash).ok());
  EXPECT_EQ(info1->auth().verify_download_token(t->token, kUid), TokenVerdict::kRevoked);
  // A revocation that arrives before the record leaves a tombstone for every instance.
  auto t2 = dfd::random_token(32);
  ASSERT_TRUE(t2.ok());
  DownloadTokenRecord late{dfd::sha256_hex(*t2), kUid, 7,
                           std::chrono::system_clock::now() + seconds(600)};
  ASSERT_TRUE(info1->auth().revoke_download_token(late.token_hash).ok());
  ASSERT_TRUE(info2->auth().remember_download_token(late).ok());
  EXPECT_EQ(info2->auth().verify_download_token(*t2, kUid), TokenVerdict::kRevoked);
  // A user's tokens revoked through one instance include those issued by the other.
  auto a1 = info1->auth().issue_download_token(kUid, 42, seconds(600), nullptr);
  auto a2 = info2->auth().issue_download_token(kOtherUid, 42, seconds(600), nullptr);
  auto other = info2->auth().issue_download_token(kUid, 43, seconds(600), nullptr);
  ASSERT_TRUE(a1.ok() && a2.ok() && other.ok());
  std::vector<std::string> hashes;
  ASSERT_TRUE(info1->auth().revoke_download_tokens_of(42, &hashes).ok());
  EXPECT_EQ(hashes.size(), 2u);
  EXPECT_EQ(info2->auth().verify_download_token(a1->token, kUid), TokenVerdict::kRevoked);
  EXPECT_EQ(info1->auth().verify_download_token(a2->token, kOtherUid), TokenVerdict::kRevoked);
  EXPECT_EQ(info1->auth().verify_download_token(other->token, kUid), TokenVerdict::kValid);
  // Called again (a publisher that failed retries): the same hashes.
  std::vector<std::string> again;
  ASSERT_TRUE(info2->auth().revoke_download_tokens_of(42, &again).ok());
  std::sort(hashes.begin(), hashes.end());
  std::sort(again.begin(), again.end());
  EXPECT_EQ(hashes, again);
}

TEST_F(AuthPostgres, UsersAsInAuthSqlite) {
  auto s = open();
  ASSERT_TRUE(s);
  Auth& a = s->auth();
  EXPECT_TRUE(a.supports_users());
  auto u = a.create_user("bob@example.com", "Bob", "correct horse", "");
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_EQ(u->role, "user");
  EXPECT_EQ(a.create_user("not-an-email", "X", "pw", "user").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(a.create_user("carol@example.com", "Carol", "", "user").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(a.create_user("carol@example.com", "Carol", "pw", "root").status().code(),
            Code::kInvalidArgument);
  auto wrong = a.check_password("bob@example.com", "correct horse!");
  auto unknown = a.check_password("nobody@example.com", "correct horse");
  auto garbage = a.check_password("", "");
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
  EXPECT_EQ(garbage.status().message(), unknown.status().message());
  EXPECT_EQ(a.find_user("Bob@Example.com")->id, u->id);
  EXPECT_EQ(a.find_user("nobody@example.com").status().code(), Code::kNotFound);
  EXPECT_EQ(a.issue_user_token(99999, seconds(60)).status().code(), Code::kNotFound);
  auto t = a.issue_user_token(u->id, seconds(60));
  ASSERT_TRUE(t.ok());
  s->advance(std::chrono::milliseconds(61'000));
  EXPECT_EQ(a.verify_user_token(t->token).status().code(), Code::kUnauthenticated);
  // Only salted hashes and token hashes are stored.
  ASSERT_TRUE(a.create_user("u2@example.com", "U2", "correct horse", "user").ok());
  std::string users = query("SELECT salt, kdf_iterations, password_hash FROM auth_users");
  EXPECT_EQ(users.find("correct horse"), std::string::npos);
  EXPECT_NE(users.find("|1000|"), std::string::npos) << users;
  std::string tokens = query("SELECT token_hash FROM auth_user_tokens");
  EXPECT_EQ(tokens.find(t->token), std::string::npos);
  EXPECT_NE(tokens.find(dfd::sha256_hex(t->token)), std::string::npos);
  // Nothing secret in the log.
  EXPECT_EQ(s->host().log_text().find("correct horse"), std::string::npos);
  EXPECT_EQ(s->host().log_text().find(t->token), std::string::npos);
}

// Expired rows go: a server that starts (or whose purger runs) after the grace period deletes
// them for every instance; within the grace an expired token still says kExpired.
TEST_F(AuthPostgres, ExpiredRowsArePurged) {
  auto a = open();
  ASSERT_TRUE(a);
  auto t = a->auth().issue_download_token(kUid, 7, seconds(1), nullptr);
  ASSERT_TRUE(t.ok());
  auto u = a->auth().create_user("p@example.com", "P", "pw", "user");
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(a->auth().issue_user_token(u->id, seconds(1)).ok());
  a->advance(std::chrono::milliseconds(2'000));
  EXPECT_EQ(a->auth().verify_download_token(t->token, kUid), TokenVerdict::kExpired);
  EXPECT_EQ(query("SELECT count(*) FROM auth_download_tokens"), "1\n");
  // A second server whose clock is 10 minutes on: its start() purges.
  dfd::test::FakeHost later(cfg_, "auth-postgres");
  later.advance(std::chrono::minutes(10));
  auto b = dfd::test::load_plugin("auth-postgres", later);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(query("SELECT count(*) FROM auth_download_tokens"), "0\n");
  EXPECT_EQ(query("SELECT count(*) FROM auth_user_tokens"), "0\n");
  EXPECT_EQ(a->auth().verify_download_token(t->token, kUid), TokenVerdict::kUnknown);
}

TEST_F(AuthPostgres, ConfigErrorsNameTheKeyAndNoSecret) {
  {
    PluginSubject s("auth-postgres", {{"kdf_iterations", std::int64_t{1000}}});
    ASSERT_FALSE(s.loaded());
    EXPECT_NE(s.error().message().find("dsn"), std::string::npos) << s.error().message();
  }
  {
    auto cfg = cfg_;
    cfg["pool_sise"] = std::int64_t{2};
    PluginSubject s("auth-postgres", cfg);
    ASSERT_FALSE(s.loaded());
    EXPECT_NE(s.error().message().find("pool_sise"), std::string::npos) << s.error().message();
  }
  {
    auto cfg = cfg_;
    cfg["dsn"] = std::string("postgresql://dfd:hunter22@127.0.0.1:5/dfd");
    PluginSubject s("auth-postgres", cfg);
    ASSERT_FALSE(s.loaded());
    EXPECT_EQ(s.error().message().find("hunter22"), std::string::npos) << s.error().message();
  }
  {
    // Nothing listens on that port: the error says where it tried, and fails fast.
    auto cfg = cfg_;
    cfg["dsn"] = "postgresql://dfd@127.0.0.1:" + std::to_string(dfd::test::free_port()) + "/dfd";
    PluginSubject s("auth-postgres", cfg);
    ASSERT_FALSE(s.loaded());
    EXPECT_NE(s.error().message().find("dsn"), std::string::npos) << s.error().message();
    EXPECT_NE(s.error().message().find("127.0.0.1"), std::string::npos) << s.error().message();
  }
  {
    // The wrong password: refused, and not quoted.
    dfd::test::TempDir d;
    std::string pw = d.file("pw");
    dfd::test::write_file(pw, "wrong-password-123\n");
    ::chmod(pw.c_str(), 0600);
    auto cfg = cfg_;
    cfg["password_file"] = pw;
    PluginSubject s("auth-postgres", cfg);
    ASSERT_FALSE(s.loaded());
    EXPECT_EQ(s.error().message().find("wrong-password-123"), std::string::npos);
    EXPECT_NE(s.error().message().find("password authentication failed"), std::string::npos)
        << s.error().message();
  }
}

// PostgreSQL crashes (SIGKILL) and comes back: the plugin keeps its state in the database and its
// pooled connections are replaced; calls fail only while the server is down.
TEST(AuthPostgresRecovery, ServesAgainAfterPostgresIsKilledAndRestarted) {
  dfd::test::PostgresInstance pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  auto cfg = pg.plugin_config();
  cfg["kdf_iterations"] = std::int64_t{1000};
  cfg["connect_timeout_ms"] = std::int64_t{1000};
  PluginSubject s("auth-postgres", cfg);
  ASSERT_TRUE(s.loaded()) << s.error().to_string();
  auto u = s.auth().create_user("r@example.com", "R", "pw", "user");
  ASSERT_TRUE(u.ok());
  auto session = s.auth().issue_user_token(u->id, seconds(600));
  auto t = s.auth().issue_download_token(kUid, u->id, seconds(600), nullptr);
  ASSERT_TRUE(session.ok() && t.ok());
  pg.kill();
  EXPECT_EQ(s.auth().verify_download_token(t->token, kUid), TokenVerdict::kUnknown)
      << "down: not known here, never valid";
  EXPECT_FALSE(s.auth().health().healthy);
  ASSERT_TRUE(pg.restart());
  EXPECT_EQ(s.auth().verify_download_token(t->token, kUid), TokenVerdict::kValid);
  EXPECT_TRUE(s.auth().verify_user_token(session->token).ok());
  EXPECT_TRUE(s.auth().check_password("r@example.com", "pw").ok());
  EXPECT_TRUE(s.auth().issue_download_token(kUid, u->id, seconds(600), nullptr).ok());
  EXPECT_TRUE(s.auth().health().healthy);
}

// Token issue and verify rates through auth-postgres and auth-sqlite in one run (printed for the
// notes; counts only, no timed assertion). A durable server (fsync on), as in production.
TEST_F(AuthPostgres, IssueAndVerifyRateNextToAuthSqlite) {
  constexpr int kCount = 1500;
  dfd::test::PostgresInstance durable(/*tls=*/false, /*durable=*/true);
  ASSERT_TRUE(durable.ok()) << durable.error();
  auto cfg = durable.plugin_config();
  cfg["kdf_iterations"] = std::int64_t{1000};
  auto pg = std::make_unique<PluginSubject>("auth-postgres", cfg);
  ASSERT_TRUE(pg->loaded()) << pg->error().to_string();
  dfd::test::TempDir d;
  PluginSubject sqlite("auth-sqlite", dfd::authtest::sqlite_config(d.file("t.db")));
  ASSERT_TRUE(sqlite.loaded());
  auto rate = [&](Auth& a) {
    std::vector<std::string> tokens;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCount; ++i) {
      auto t = a.issue_download_token(kUid, 1, seconds(600), nullptr);
      if (!t.ok()) break;
      tokens.push_back(t->token);
    }
    auto t1 = std::chrono::steady_clock::now();
    int valid = 0;
    for (const auto& t : tokens) valid += a.verify_download_token(t, kUid) == TokenVerdict::kValid;
    auto t2 = std::chrono::steady_clock::now();
    EXPECT_EQ(valid, kCount);
    return std::make_pair(kCount / std::chrono::duration<double>(t1 - t0).count(),
                          kCount / std::chrono::duration<double>(t2 - t1).count());
  };
  // 8 threads issuing at once (PostgreSQL flushes concurrent commits together).
  auto parallel = [&](Auth& a) {
    constexpr int kThreads = 8, kEach = 200;
    std::atomic<int> ok{0};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        for (int j = 0; j < kEach; ++j) {
          ok += a.issue_download_token(kUid, 1, seconds(600), nullptr).ok();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), kThreads * kEach);
    return ok / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto [pg_issue, pg_verify] = rate(pg->auth());
  auto [sq_issue, sq_verify] = rate(sqlite.auth());
  double pg_par = parallel(pg->auth()), sq_par = parallel(sqlite.auth());
  std::printf(
      "one thread, %d tokens: auth-postgres issue %.0f/s verify %.0f/s; auth-sqlite issue "
      "%.0f/s verify %.0f/s\n8 threads issuing: auth-postgres %.0f/s, auth-sqlite %.0f/s\n",
      kCount, pg_issue, pg_verify, sq_issue, sq_verify, pg_par, sq_par);
}

}  // namespace
