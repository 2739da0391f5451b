// auth-sqlite beyond the conformance kit: the file-server path (remember), revocation, restart,
// users and user tokens, and what actually lands in the SQLite file.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>
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
using dfd::authtest::sqlite_config;
using std::chrono::seconds;

constexpr const char* kUid = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr const char* kOtherUid =
    "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

// Rows of a query on the db file, each row's columns joined by '|'.
std::vector<std::string> query(const std::string& db, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* h = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      if (i) row += "|";
      auto* t = sqlite3_column_text(s, i);
      row += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
    rows.push_back(row);
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return rows;
}

class AuthSqliteTest : public ::testing::Test {
 protected:
  std::unique_ptr<PluginSubject> open(const std::string& name = "tokens.db",
                                      std::map<std::string, dfd::test::ConfigValue> extra = {}) {
    auto cfg = sqlite_config(db(name));
    for (auto& [k, v] : extra) cfg[k] = v;
    auto s = std::make_unique<PluginSubject>("auth-sqlite", cfg);
    EXPECT_TRUE(s->loaded()) << s->error().to_string();
    return s;
  }
  std::string db(const std::string& name = "tokens.db") { return dir_.file("var/" + name); }

  // Issues one download token for kUid per element of `recs` on `info`, filling in its record;
  // returns the tokens (empty when an issue failed, with a test failure recorded).
  static std::vector<std::string> issue_into(PluginSubject& info,
                                             std::vector<DownloadTokenRecord>& recs) {
    std::vector<std::string> tokens;
    for (auto& r : recs) {
      auto t = info.auth().issue_download_token(kUid, 7, seconds(600), &r);
      EXPECT_TRUE(t.ok()) << t.status().to_string();
      if (!t.ok()) return {};
      tokens.push_back(t->token);
    }
    return tokens;
  }

  dfd::test::TempDir dir_;
};

using AuthSqlite = AuthSqliteTest;

TEST_F(AuthSqlite, FileServerLearnsTokenFromRecord) {
  auto info = open("info.db");
  auto fs = open("fileserver.db");
  DownloadTokenRecord r;
  auto t = info->auth().issue_download_token(kUid, 3, seconds(600), &r);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(fs->auth().verify_download_token(t->token, kUid), TokenVerdict::kUnknown);
  ASSERT_TRUE(fs->auth().remember_download_token(r).ok());
  EXPECT_EQ(fs->auth().verify_download_token(t->token, kUid), TokenVerdict::kValid);
  EXPECT_EQ(fs->auth().verify_download_token(t->token, kOtherUid), TokenVerdict::kWrongScope);
  // Redelivery is normal: remember is idempotent.
  ASSERT_TRUE(fs->auth().remember_download_token(r).ok());
  ASSERT_TRUE(fs->auth().remember_download_token(r).ok());
  EXPECT_EQ(fs->auth().verify_download_token(t->token, kUid), TokenVerdict::kValid);
  EXPECT_EQ(query(db("fileserver.db"), "SELECT count(*) FROM download_tokens"),
            std::vector<std::string>{"1"});
  // A record the file server learns keeps its expiry.
  fs->advance(std::chrono::milliseconds(601'000));
  EXPECT_EQ(fs->auth().verify_download_token(t->token, kUid), TokenVerdict::kExpired);
  EXPECT_TRUE(fs->auth().needs_token_events());
}

TEST_F(AuthSqlite, RemembersAWholeEventInOneCall) {
  auto info = open("info.db");
  auto fs = open("fileserver.db");
  std::vector<DownloadTokenRecord> recs(100);
  auto tokens = issue_into(*info, recs);
  ASSERT_EQ(tokens.size(), recs.size());
  ASSERT_TRUE(fs->auth().remember_download_tokens(recs.data(), recs.size()).ok());
  for (const auto& t : tokens) {
    EXPECT_EQ(fs->auth().verify_download_token(t, kUid), TokenVerdict::kValid);
  }
  // Redelivered (with one more): idempotent; an empty event is fine.
  DownloadTokenRecord extra;
  auto t = info->auth().issue_download_token(kOtherUid, 7, seconds(600), &extra);
  ASSERT_TRUE(t.ok());
  recs.push_back(extra);
  ASSERT_TRUE(fs->auth().remember_download_tokens(recs.data(), recs.size()).ok());
  ASSERT_TRUE(fs->auth().remember_download_tokens(nullptr, 0).ok());
  EXPECT_EQ(fs->auth().verify_download_token(t->token, kOtherUid), TokenVerdict::kValid);
  EXPECT_EQ(query(db("fileserver.db"), "SELECT count(*) FROM download_tokens"),
            std::vector<std::string>{"101"});
}

TEST_F(AuthSqlite, ABatchWithAMalformedRecordStoresNothing) {
  auto info = open("info.db");
  auto fs = open("fileserver.db");
  std::vector<DownloadTokenRecord> recs(3);
  auto tokens = issue_into(*info, recs);
  ASSERT_EQ(tokens.size(), recs.size());
  recs[2].token_hash = "not-a-hash";
  EXPECT_EQ(fs->auth().remember_download_tokens(recs.data(), recs.size()).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(fs->auth().verify_download_token(tokens[0], kUid), TokenVerdict::kUnknown);
  EXPECT_EQ(query(db("fileserver.db"), "SELECT count(*) FROM download_tokens"),
            std::vector<std::string>{"0"});
}

TEST_F(AuthSqlite, RememberRefusesMalformedRecords) {
  auto s = open();
  DownloadTokenRecord r;
  r.token_hash = "not-a-hash";
  r.scope = kUid;
  r.expires_at = std::chrono::system_clock::now() + seconds(60);
  EXPECT_EQ(s->auth().remember_download_token(r).code(), Code::kInvalidArgument);
  r.token_hash = std::string(64, 'a');
  r.scope = "";
  EXPECT_EQ(s->auth().remember_download_token(r).code(), Code::kInvalidArgument);
  EXPECT_EQ(s->auth().revoke_download_token("zz").code(), Code::kInvalidArgument);
}

TEST_F(AuthSqlite, RevokeBeforeAndAfterRemember) {
  auto info = open("info.db");
  auto fs = open("fs.db");
  DownloadTokenRecord r1, r2;
  auto t1 = info->auth().issue_download_token(kUid, 1, seconds(600), &r1);
  auto t2 = info->auth().issue_download_token(kUid, 1, seconds(600), &r2);
  ASSERT_TRUE(t1.ok() && t2.ok());
  // After: revoked.
  ASSERT_TRUE(fs->auth().remember_download_token(r1).ok());
  ASSERT_TRUE(fs->auth().revoke_download_token(r1.token_hash).ok());
  EXPECT_EQ(fs->auth().verify_download_token(t1->token, kUid), TokenVerdict::kRevoked);
  // Before (events out of order): a late token.issued does not revive it.
  ASSERT_TRUE(fs->auth().revoke_download_token(r2.token_hash).ok());
  ASSERT_TRUE(fs->auth().remember_download_token(r2).ok());
  EXPECT_EQ(fs->auth().verify_download_token(t2->token, kUid), TokenVerdict::kRevoked);
  // The issuing server revokes too.
  ASSERT_TRUE(info->auth().revoke_download_token(r1.token_hash).ok());
  EXPECT_EQ(info->auth().verify_download_token(t1->token, kUid), TokenVerdict::kRevoked);
  EXPECT_EQ(info->auth().verify_download_token(t2->token, kUid), TokenVerdict::kValid);
}

TEST_F(AuthSqlite, SurvivesRestart) {
  std::string token, user_token;
  DownloadTokenRecord r;
  {
    auto s = open();
    auto t = s->auth().issue_download_token(kUid, 5, seconds(600), &r);
    ASSERT_TRUE(t.ok());
    token = t->token;
    auto u = s->auth().create_user("Ada@Example.com", "Ada", "s3cret pass", "admin");
    ASSERT_TRUE(u.ok()) << u.status().to_string();
    auto ut = s->auth().issue_user_token(u->id, seconds(3600));
    ASSERT_TRUE(ut.ok()) << ut.status().to_string();
    user_token = ut->token;
  }
  auto s = open();
  EXPECT_EQ(s->auth().verify_download_token(token, kUid), TokenVerdict::kValid);
  auto u = s->auth().check_password("ada@example.com", "s3cret pass");
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_EQ(u->name, "Ada");
  EXPECT_EQ(u->role, "admin");
  auto v = s->auth().verify_user_token(user_token);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v->id, u->id);
}

TEST_F(AuthSqlite, TokensAreStoredOnlyAsHashes) {
  auto s = open();
  std::set<std::string> tokens;
  for (int i = 0; i < 5; ++i) {
    auto t = s->auth().issue_download_token(kUid, 1, seconds(600), nullptr);
    ASSERT_TRUE(t.ok());
    tokens.insert(t->token);
  }
  auto rows = query(db(), "SELECT token_hash, scope FROM download_tokens");
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) {
    std::string hash = row.substr(0, row.find('|'));
    EXPECT_EQ(hash.size(), 64u);
    bool matches_one = false;
    for (const auto& t : tokens) {
      EXPECT_EQ(row.find(t), std::string::npos) << "a token is stored in clear";
      matches_one = matches_one || dfd::sha256_hex(t) == hash;
    }
    EXPECT_TRUE(matches_one);
  }
  EXPECT_EQ(query(db(), "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st {};
    ASSERT_EQ(::stat((db() + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_mode & 077, 0u) << "db" << suffix << " is readable by others";
  }
}

TEST_F(AuthSqlite, ExpiredTokensArePurged) {
  auto s = open();
  auto old = s->auth().issue_download_token(kUid, 1, seconds(1), nullptr);
  ASSERT_TRUE(old.ok());
  s->advance(std::chrono::hours(1));
  EXPECT_EQ(s->auth().verify_download_token(old->token, kUid), TokenVerdict::kExpired);
  for (int i = 0; i < 1100; ++i) {
    ASSERT_TRUE(s->auth().issue_download_token(kUid, 1, seconds(600), nullptr).ok());
  }
  // The expired row is gone (its verdict is now "unknown"); the live ones stay.
  EXPECT_EQ(s->auth().verify_download_token(old->token, kUid), TokenVerdict::kUnknown);
  EXPECT_EQ(query(db(), "SELECT count(*) FROM download_tokens"), std::vector<std::string>{"1100"});
}

TEST_F(AuthSqlite, IssuesThousandsPerSecond) {
  auto s = open();
  constexpr int kCount = 5000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(s->auth().issue_download_token(kUid, 1, seconds(600), nullptr).ok());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("issued %d tokens in %.3f s (%.0f/s)\n", kCount, secs, kCount / secs);
  EXPECT_LT(secs, 5.0) << "issuing is too slow: " << kCount / secs << "/s";
  EXPECT_EQ(s->host().metric("dfd_auth_tokens_issued_total"), kCount);
}

// Commits never checkpoint (no caller waits for a checkpoint's fsync); the plugin's checkpointer
// thread does, so the WAL stays small while tokens are issued one transaction at a time. Without
// it, 6,000 transactions leave a WAL of tens of MiB.
TEST_F(AuthSqlite, TheCheckpointerKeepsTheWalSmall) {
  auto s = open();
  std::uintmax_t largest = 0;
  for (int i = 0; i < 6000; ++i) {
    ASSERT_TRUE(s->auth().issue_download_token(kUid, 1, seconds(600), nullptr).ok());
    if (i % 500 == 499) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it run on a busy box
      std::error_code ec;
      largest = std::max(largest, std::filesystem::file_size(db() + "-wal", ec));
    }
  }
  std::printf("largest WAL seen: %.1f MiB\n", static_cast<double>(largest) / (1 << 20));
  // Without the checkpointer these 6,000 commits leave a 77 MiB WAL; with it, 4-7 MiB on a quiet
  // machine and up to 26 MiB when other builds starve its thread (load 11 on 2 cores). The bound
  // tells the two apart without depending on the scheduler.
  EXPECT_LT(largest, std::uintmax_t{40} << 20);
  EXPECT_EQ(query(db(), "SELECT count(*) FROM download_tokens"), std::vector<std::string>{"6000"});
}

TEST_F(AuthSqlite, VerifyMetricsCountVerdicts) {
  auto s = open();
  auto t = s->auth().issue_download_token(kUid, 1, seconds(600), nullptr);
  ASSERT_TRUE(t.ok());
  (void)s->auth().verify_download_token(t->token, kUid);
  (void)s->auth().verify_download_token(t->token, kOtherUid);
  (void)s->auth().verify_download_token("", kUid);
  EXPECT_EQ(s->host().metric("dfd_auth_verify_total", {{"verdict", "valid"}}), 1);
  EXPECT_EQ(s->host().metric("dfd_auth_verify_total", {{"verdict", "wrong_scope"}}), 1);
  EXPECT_EQ(s->host().metric("dfd_auth_verify_total", {{"verdict", "invalid"}}), 1);
  EXPECT_EQ(s->host().log_text().find(t->token), std::string::npos) << "a token was logged";
}

TEST_F(AuthSqlite, Users) {
  auto s = open();
  Auth& a = s->auth();
  EXPECT_TRUE(a.supports_users());
  auto u = a.create_user("bob@example.com", "Bob", "correct horse", "user");
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_GT(u->id, 0);
  EXPECT_EQ(u->email, "bob@example.com");
  EXPECT_EQ(a.create_user("BOB@example.com", "Bob 2", "x", "user").status().code(),
            Code::kAlreadyExists);
  EXPECT_EQ(a.create_user("not-an-email", "X", "pw", "user").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(a.create_user("a@b@c", "X", "pw", "user").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(a.create_user("carol@example.com", "Carol", "", "user").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(a.create_user("carol@example.com", "Carol", "pw", "root").status().code(),
            Code::kInvalidArgument);

  auto ok = a.check_password("bob@example.com", "correct horse");
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->id, u->id);
  EXPECT_EQ(ok->name, "Bob");
  EXPECT_EQ(ok->role, "user");

  auto wrong = a.check_password("bob@example.com", "correct horse!");
  auto unknown = a.check_password("nobody@example.com", "correct horse");
  auto garbage = a.check_password("", "");
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(unknown.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
  EXPECT_EQ(garbage.status().message(), unknown.status().message());

  auto found = a.find_user("Bob@Example.com");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, u->id);
  EXPECT_EQ(a.find_user("nobody@example.com").status().code(), Code::kNotFound);
  EXPECT_EQ(s->host().log_text().find("correct horse"), std::string::npos) << "password logged";
}

TEST_F(AuthSqlite, UnknownEmailCostsAsMuchAsAWrongPassword) {
  auto s = open("tokens.db", {{"kdf_iterations", std::int64_t{40000}}});
  ASSERT_TRUE(s->auth().create_user("t@example.com", "T", "pw", "user").ok());
  // The KDF is CPU work on the calling thread: count this thread's CPU time, not the wall clock,
  // so other processes on a busy machine (a parallel ctest, builds) do not skew the ratio.
  auto cpu_seconds = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  auto time = [&](const char* email) {
    double t0 = cpu_seconds();
    for (int i = 0; i < 4; ++i) (void)s->auth().check_password(email, "wrong");
    return cpu_seconds() - t0;
  };
  double known = time("t@example.com");
  double unknown = time("nobody@example.com");
  // Both run the KDF; allow for noise.
  EXPECT_GT(unknown, known * 0.3) << "known " << known << " s, unknown " << unknown << " s";
  EXPECT_GT(known, unknown * 0.3) << "known " << known << " s, unknown " << unknown << " s";
}

TEST_F(AuthSqlite, PasswordsAreSaltedHashes) {
  auto s = open();
  ASSERT_TRUE(s->auth().create_user("u1@example.com", "U1", "same password", "user").ok());
  ASSERT_TRUE(s->auth().create_user("u2@example.com", "U2", "same password", "user").ok());
  auto rows = query(db(), "SELECT salt, kdf_iterations, password_hash FROM users ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.find("same password"), std::string::npos);
    EXPECT_NE(row.find("|1000|"), std::string::npos) << row;
  }
  EXPECT_NE(rows[0], rows[1]);
  EXPECT_NE(rows[0].substr(rows[0].rfind('|')), rows[1].substr(rows[1].rfind('|')));
  EXPECT_NE(rows[0].substr(0, 32), rows[1].substr(0, 32)) << "salts must differ";
  EXPECT_EQ(rows[0].substr(0, rows[0].find('|')).size(), 32u) << "16-byte salt in hex";
}

// ABI minor 2: set_password stores a new salt (even for the same password) and never the
// password, and moves the account to the configured iterations.
TEST_F(AuthSqlite, SetPasswordStoresANewSalt) {
  auto s = open();
  auto u = s->auth().create_user("u1@example.com", "U1", "same password", "user");
  ASSERT_TRUE(u.ok());
  auto before = query(db(), "SELECT salt, kdf_iterations, password_hash FROM users");
  ASSERT_TRUE(s->auth().set_password(u->id, "same password").ok());
  auto after = query(db(), "SELECT salt, kdf_iterations, password_hash FROM users");
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(before[0].substr(0, 32), after[0].substr(0, 32)) << "a new salt";
  EXPECT_NE(before[0], after[0]);
  EXPECT_NE(after[0].find("|1000|"), std::string::npos) << after[0];
  EXPECT_EQ(after[0].find("same password"), std::string::npos);
  EXPECT_TRUE(s->auth().check_password("u1@example.com", "same password").ok());
  EXPECT_EQ(s->host().log_text().find("same password"), std::string::npos) << "password logged";
}

TEST_F(AuthSqlite, UserTokens) {
  auto s = open();
  Auth& a = s->auth();
  auto u = a.create_user("eve@example.com", "Eve", "pw", "user");
  ASSERT_TRUE(u.ok());
  auto t = a.issue_user_token(u->id, seconds(60));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto t2 = a.issue_user_token(u->id, seconds(3600));
  ASSERT_TRUE(t2.ok());
  EXPECT_NE(t->token, t2->token);
  auto v = a.verify_user_token(t->token);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v->email, "eve@example.com");
  EXPECT_EQ(a.verify_user_token("").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(a.verify_user_token(t->token + "x").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(a.issue_user_token(99999, seconds(60)).status().code(), Code::kNotFound);
  // A user token is not a download token and vice versa.
  EXPECT_NE(a.verify_download_token(t->token, kUid), TokenVerdict::kValid);
  // Only the hash is stored.
  auto rows = query(db(), "SELECT token_hash FROM user_tokens");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) EXPECT_NE(r, t->token);
  // Revoke.
  ASSERT_TRUE(a.revoke_user_token(t->token).ok());
  ASSERT_TRUE(a.revoke_user_token(t->token).ok());
  EXPECT_EQ(a.verify_user_token(t->token).status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(a.verify_user_token(t2->token).ok());
  // Expiry.
  s->advance(std::chrono::milliseconds(3'601'000));
  EXPECT_EQ(a.verify_user_token(t2->token).status().code(), Code::kUnauthenticated);
}

TEST_F(AuthSqlite, ConfigErrors) {
  {
    PluginSubject s("auth-sqlite", {});
    ASSERT_FALSE(s.loaded());
    EXPECT_NE(s.error().message().find("'db'"), std::string::npos) << s.error().message();
  }
  {
    PluginSubject s("auth-sqlite", {{"db", db()}, {"token_tll_s", std::int64_t{5}}});
    ASSERT_FALSE(s.loaded());
    EXPECT_NE(s.error().message().find("token_tll_s"), std::string::npos) << s.error().message();
  }
  {
    PluginSubject s("auth-sqlite", {{"db", db()}, {"kdf_iterations", std::int64_t{0}}});
    ASSERT_FALSE(s.loaded());
    EXPECT_NE(s.error().message().find("kdf_iterations"), std::string::npos);
  }
  {
    PluginSubject s("auth-sqlite", {{"db", std::string("/proc/nope/tokens.db")}});
    ASSERT_FALSE(s.loaded());
    EXPECT_NE(s.error().message().find("'db'"), std::string::npos) << s.error().message();
  }
}

}  // namespace

namespace {

TEST_F(AuthSqlite, ConcurrentIssuersDoNotStall) {
  auto s = open();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  std::atomic<int> failures{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < kPerThread; ++n) {
        auto t = s->auth().issue_download_token(kUid, 1, seconds(600), nullptr);
        if (!t.ok() || s->auth().verify_download_token(t->token, kUid) != TokenVerdict::kValid) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d threads issued+verified %d tokens in %.3f s (%.0f/s)\n", kThreads,
              kThreads * kPerThread, secs, kThreads * kPerThread / secs);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LT(secs, 8.0);
  // Concurrent issues share transactions (group commit), yet every token has its own row.
  EXPECT_EQ(query(db(), "SELECT count(*) FROM download_tokens"),
            std::vector<std::string>{std::to_string(kThreads * kPerThread)});
  EXPECT_EQ(s->host().metric("dfd_auth_tokens_issued_total"), kThreads * kPerThread);
}

}  // namespace

namespace {

// ABI minor 1: an admin disables a user (no login, no user token works), enables them again,
// and revokes every token of a user; the revoked download tokens come back as hashes to
// publish, again on a repeat (a failed publish can be retried).
TEST_F(AuthSqlite, DisableEnableAndRevokeAUsersTokens) {
  auto s = open();
  Auth& a = s->auth();
  auto bob = a.create_user("bob@example.com", "Bob", "bob-password", "user");
  auto eve = a.create_user("eve@example.com", "Eve", "eve-password", "user");
  ASSERT_TRUE(bob.ok() && eve.ok());
  auto session = a.issue_user_token(bob->id, seconds(600));
  ASSERT_TRUE(session.ok());

  std::vector<std::string> bob_tokens, hashes;
  std::set<std::string> bob_hashes;
  for (int i = 0; i < 3; ++i) {
    DownloadTokenRecord r;
    auto t = a.issue_download_token(kUid, bob->id, seconds(600), &r);
    ASSERT_TRUE(t.ok());
    bob_tokens.push_back(t->token);
    bob_hashes.insert(r.token_hash);
  }
  auto eve_token = a.issue_download_token(kUid, eve->id, seconds(600), nullptr);
  ASSERT_TRUE(eve_token.ok());

  ASSERT_TRUE(a.revoke_download_tokens_of(bob->id, &hashes).ok());
  EXPECT_EQ(std::set<std::string>(hashes.begin(), hashes.end()), bob_hashes);
  for (const auto& t : bob_tokens) {
    EXPECT_EQ(a.verify_download_token(t, kUid), TokenVerdict::kRevoked);
  }
  EXPECT_EQ(a.verify_download_token(eve_token->token, kUid), TokenVerdict::kValid);
  ASSERT_TRUE(a.revoke_download_tokens_of(bob->id, &hashes).ok());
  EXPECT_EQ(hashes.size(), 3u) << "a repeat lists them again";
  ASSERT_TRUE(a.revoke_download_tokens_of(12345, &hashes).ok());
  EXPECT_TRUE(hashes.empty());

  auto found = a.find_user_by_id(bob->id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->email, "bob@example.com");
  EXPECT_EQ(a.find_user_by_id(999).status().code(), Code::kNotFound);
  EXPECT_EQ(a.user_disabled(bob->id).value(), false);

  ASSERT_TRUE(a.set_user_disabled(bob->id, true).ok());
  EXPECT_EQ(a.user_disabled(bob->id).value(), true);
  EXPECT_EQ(a.verify_user_token(session->token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(a.check_password("bob@example.com", "bob-password").status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(a.check_password("bob@example.com", "wrong").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(a.set_user_disabled(999, true).code(), Code::kNotFound);
  EXPECT_TRUE(a.check_password("eve@example.com", "eve-password").ok());

  ASSERT_TRUE(a.set_user_disabled(bob->id, false).ok());
  EXPECT_TRUE(a.check_password("bob@example.com", "bob-password").ok());
  EXPECT_EQ(a.verify_user_token(session->token).status().code(), Code::kUnauthenticated)
      << "disabling ended the session for good";

  auto s1 = a.issue_user_token(bob->id, seconds(600));
  auto s2 = a.issue_user_token(bob->id, seconds(600));
  auto e1 = a.issue_user_token(eve->id, seconds(600));
  ASSERT_TRUE(s1.ok() && s2.ok() && e1.ok());
  ASSERT_TRUE(a.revoke_user_tokens(bob->id).ok());
  EXPECT_FALSE(a.verify_user_token(s1->token).ok());
  EXPECT_FALSE(a.verify_user_token(s2->token).ok());
  EXPECT_TRUE(a.verify_user_token(e1->token).ok());
}

// A token database written before users.disabled existed (user_version 1) opens and gains it.
TEST_F(AuthSqlite, MigratesAVersion1Database) {
  std::filesystem::create_directories(dir_.file("var"));
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db("old.db").c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h,
                         "CREATE TABLE users(id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT "
                         "NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL, role TEXT NOT NULL, salt "
                         "TEXT NOT NULL, kdf_iterations INTEGER NOT NULL, password_hash TEXT NOT "
                         "NULL, created_at INTEGER NOT NULL); PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  auto s = open("old.db");
  auto u = s->auth().create_user("old@example.com", "Old", "old-password", "user");
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  ASSERT_TRUE(s->auth().set_user_disabled(u->id, true).ok());
  EXPECT_EQ(query(db("old.db"), "SELECT disabled FROM users"), std::vector<std::string>{"1"});
}

}  // namespace
