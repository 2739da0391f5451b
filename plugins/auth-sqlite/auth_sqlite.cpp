// auth-sqlite: download tokens, users and user tokens in one SQLite file (WAL).
//
// Secrets are never stored: tokens only as their SHA-256 (hex), passwords only as
// PBKDF2-HMAC-SHA256 with a per-user 16-byte salt. See docs/auth.md.
//
// Thread-safety: every public method may be called from any thread. Each call leases one SQLite
// connection (with its prepared statements) from a small mutex-guarded pool, so a connection is
// used by one thread at a time; SQLite serialises writers (WAL, busy_timeout). One thread of its
// own, from start() to stop(), checkpoints the WAL so that no caller waits for it.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "auth_rules.hpp"
#include "auth_settings.hpp"
#include "dfd/auth.hpp"
#include "dfd/creatable_file.hpp"
#include "dfd/events.hpp"
#include "dfd/plugin.hpp"
#include "group_commit.hpp"
#include "password_kdf.hpp"
#include "token_metrics.hpp"

namespace dfd::auth_sqlite {
namespace {

using auth_common::expiry_after;
using auth_common::from_unix;
using auth_common::kLoginError;
using auth_common::kPurgeGraceS;
using auth_common::kTokenBytes;
using auth_common::unix_seconds;
using auth_common::well_formed_hash;
using auth_common::well_formed_token;

constexpr std::int64_t kPurgeEvery = 1024;  // purge expired rows every N writes
constexpr std::size_t kMaxIdleConnections = 16;
constexpr int kBusyTimeoutMs = 5000;
// The checkpointer thread copies the WAL back into the database when it holds this many pages
// (about 4 MiB), and at least once a second when it holds any.
constexpr int kCheckpointPages = 1000;
constexpr std::chrono::milliseconds kCheckpointEvery{1000};

// ---------------------------------------------------------------------------------------------
// SQLite plumbing.

enum StmtId : int {
  kInsertDownload,
  kRememberDownload,
  kSelectDownload,
  kRevokeDownload,
  kPurgeDownload,
  kPurgeUserTokens,
  kInsertUser,
  kSelectUserByEmail,
  kSelectUserById,
  kInsertUserToken,
  kSelectUserToken,
  kDeleteUserToken,
  kSetUserDisabled,
  kDeleteUserTokensOf,
  kRevokeDownloadsOf,
  kSelectRevokedOf,
  kListUsers,
  kCountUsers,
  kSetPassword,
  kPing,
  kBegin,
  kCommit,
  kRollback,
  kStmtCount
};

constexpr const char* kStmtSql[kStmtCount] = {
    "INSERT INTO download_tokens(token_hash, scope, user_id, expires_at, revoked) "
    "VALUES(?1, ?2, ?3, ?4, 0)",
    "INSERT OR IGNORE INTO download_tokens(token_hash, scope, user_id, expires_at, revoked) "
    "VALUES(?1, ?2, ?3, ?4, 0)",
    "SELECT token_hash, scope, expires_at, revoked FROM download_tokens WHERE token_hash = ?1",
    // Revoking a hash not known yet leaves a tombstone, so a late token.issued cannot revive it.
    "INSERT INTO download_tokens(token_hash, scope, user_id, expires_at, revoked) "
    "VALUES(?1, '', 0, ?2, 1) ON CONFLICT(token_hash) DO UPDATE SET revoked = 1",
    "DELETE FROM download_tokens WHERE expires_at < ?1",
    "DELETE FROM user_tokens WHERE expires_at < ?1",
    "INSERT INTO users(email, name, role, salt, kdf_iterations, password_hash, created_at) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "SELECT id, email, name, role, salt, kdf_iterations, password_hash, disabled FROM users "
    "WHERE email = ?1",
    "SELECT id, email, name, role, disabled FROM users WHERE id = ?1",
    "INSERT INTO user_tokens(token_hash, user_id, expires_at) VALUES(?1, ?2, ?3)",
    "SELECT t.token_hash, t.expires_at, u.id, u.email, u.name, u.role, u.disabled "
    "FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1",
    "DELETE FROM user_tokens WHERE token_hash = ?1",
    "UPDATE users SET disabled = ?2 WHERE id = ?1",
    "DELETE FROM user_tokens WHERE user_id = ?1",
    // No index on user_id (it would cost every issue a third b-tree write): these two scan the
    // unexpired rows through download_tokens_expires, once per logout or admin revocation.
    "UPDATE download_tokens SET revoked = 1 WHERE user_id = ?1 AND expires_at > ?2 AND revoked = 0",
    "SELECT token_hash FROM download_tokens WHERE user_id = ?1 AND expires_at > ?2 AND revoked = 1",
    "SELECT id, email, name, role, disabled FROM users ORDER BY id LIMIT ?1 OFFSET ?2",
    "SELECT count(*) FROM users",
    "UPDATE users SET salt = ?2, kdf_iterations = ?3, password_hash = ?4 WHERE id = ?1",
    "SELECT 1",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
};

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS download_tokens("
    "  token_hash TEXT PRIMARY KEY NOT NULL,"
    "  scope TEXT NOT NULL,"
    "  user_id INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS download_tokens_expires ON download_tokens(expires_at);"
    "CREATE TABLE IF NOT EXISTS users("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  salt TEXT NOT NULL,"
    "  kdf_iterations INTEGER NOT NULL,"
    "  password_hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS user_tokens("
    "  token_hash TEXT PRIMARY KEY NOT NULL,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS user_tokens_expires ON user_tokens(expires_at);"
    "PRAGMA user_version = 2;";

// One connection and its prepared statements. Used by one thread at a time (leased from Pool).
struct Connection {
  sqlite3* db = nullptr;
  std::array<sqlite3_stmt*, kStmtCount> stmts{};

  ~Connection() {
    for (auto* s : stmts) sqlite3_finalize(s);
    if (db) sqlite3_close_v2(db);
  }
};

// Resets (and unbinds) a statement when the scope ends, so it can be reused.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return s_; }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
  int step() { return sqlite3_step(s_); }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3_stmt* s_;
};

std::string sqlite_error(sqlite3* db, std::string_view what) {
  std::string m = "auth-sqlite: ";
  m += what;
  m += ": ";
  m += db ? sqlite3_errmsg(db) : "out of memory";
  return m;
}

Status exec(sqlite3* db, const char* sql, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = "auth-sqlite: " + std::string(what) + ": " + (err ? err : "unknown error");
    sqlite3_free(err);
    return Status::IoError(m);
  }
  return Status::Ok();
}

// Version 1 files have no users.disabled column (added with ABI minor 1).
Status migrate(sqlite3* db, const std::string& path) {
  sqlite3_stmt* probe = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT disabled FROM users LIMIT 0", -1, &probe, nullptr);
  sqlite3_finalize(probe);
  if (rc == SQLITE_OK) return Status::Ok();
  return exec(db, "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0",
              "add users.disabled to '" + path + "'");
}

// A small pool of connections. acquire() reuses an idle one or opens a new one.
class Pool {
 public:
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    ~Lease() {
      if (c_) pool_->release(std::move(c_));
    }
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    Connection* operator->() const { return c_.get(); }
    Stmt stmt(StmtId id) const { return Stmt(c_->stmts[id]); }
    // Steps a writing statement under the pool's writer mutex: threads of this process take
    // turns instead of meeting SQLITE_BUSY and sleeping in SQLite's busy handler.
    int write_step(Stmt& s) const {
      std::lock_guard<std::mutex> g(pool_->write_mu_);
      return s.step();
    }
    Status write(Stmt& s, std::string_view what) const;
    // Runs `body` in one write transaction under the writer mutex: committed when it returns Ok,
    // rolled back otherwise. Inside, statements are stepped with Stmt::step() (the mutex is
    // already held).
    template <typename Fn>
    Status transaction(std::string_view what, Fn&& body) const;

   private:
    Pool* pool_;
    std::unique_ptr<Connection> c_;
  };

  explicit Pool(std::string path) : path_(std::move(path)) {}

  // Opens the first connection: WAL, schema. Called once, from init().
  Status open_first() {
    auto c = open();
    if (!c.ok()) return c.status();
    release(std::move(c.value()));
    return Status::Ok();
  }

  Result<Lease> acquire() {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(c));
      }
    }
    auto c = open();
    if (!c.ok()) return c.status();
    return Lease(this, std::move(c.value()));
  }

  void clear() {
    std::lock_guard<std::mutex> g(mu_);
    idle_.clear();
  }

  const std::string& path() const { return path_; }

  // Called with the WAL's page count after each commit (by SQLite, on the committing thread).
  void set_wal_listener(std::function<void(int)> f) { wal_listener_ = std::move(f); }

 private:
  static int on_commit(void* self, sqlite3*, const char*, int pages) {
    auto* p = static_cast<Pool*>(self);
    if (p->wal_listener_) p->wal_listener_(pages);
    return SQLITE_OK;
  }

  void release(std::unique_ptr<Connection> c) {
    std::lock_guard<std::mutex> g(mu_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(c));
  }

  Result<std::unique_ptr<Connection>> open() {
    auto c = std::make_unique<Connection>();
    int rc =
        sqlite3_open_v2(path_.c_str(), &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      return Status::IoError(sqlite_error(c->db, "open '" + path_ + "'"));
    }
    sqlite3_busy_timeout(c->db, kBusyTimeoutMs);
    sqlite3_extended_result_codes(c->db, 1);
    // journal_mode is persistent in the file; synchronous and foreign_keys are per connection.
    // WAL + synchronous=NORMAL: commits are durable against process crashes and need no fsync
    // per transaction (only at checkpoints).
    DFD_RETURN_IF_ERROR(exec(c->db, "PRAGMA journal_mode=WAL", "set WAL on '" + path_ + "'"));
    // No checkpoint inside a commit: the checkpointer thread runs them (SqliteAuth::checkpointer),
    // so no caller waits for a checkpoint's fsync. Each commit reports the WAL's size to it.
    DFD_RETURN_IF_ERROR(exec(c->db,
                             "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                             "PRAGMA wal_autocheckpoint=0",
                             "set pragmas on '" + path_ + "'"));
    sqlite3_wal_hook(c->db, &Pool::on_commit, this);
    {
      std::lock_guard<std::mutex> g(schema_mu_);
      if (!schema_ready_) {
        DFD_RETURN_IF_ERROR(exec(c->db, kSchema, "create schema in '" + path_ + "'"));
        DFD_RETURN_IF_ERROR(migrate(c->db, path_));
        schema_ready_ = true;
      }
    }
    for (int i = 0; i < kStmtCount; ++i) {
      if (sqlite3_prepare_v3(c->db, kStmtSql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[i],
                             nullptr) != SQLITE_OK) {
        return Status::Internal(sqlite_error(c->db, "prepare"));
      }
    }
    return c;
  }

  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::mutex schema_mu_;
  bool schema_ready_ = false;
  std::mutex write_mu_;
  std::function<void(int)> wal_listener_;  // set before the first commit of any other thread
};

Status step_status(int rc, sqlite3* db, std::string_view what) {
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    return Status::Unavailable(sqlite_error(db, what));
  }
  return Status::IoError(sqlite_error(db, what));
}

Status Pool::Lease::write(Stmt& s, std::string_view what) const {
  return step_status(write_step(s), c_->db, what);
}

template <typename Fn>
Status Pool::Lease::transaction(std::string_view what, Fn&& body) const {
  std::lock_guard<std::mutex> g(pool_->write_mu_);
  {
    Stmt b = stmt(kBegin);
    DFD_RETURN_IF_ERROR(step_status(b.step(), c_->db, what));
  }
  Status st = body();
  if (st.ok()) {
    Stmt c = stmt(kCommit);
    st = step_status(c.step(), c_->db, what);
    if (st.ok()) return st;
  }
  Stmt r = stmt(kRollback);
  (void)r.step();  // fails only when SQLite already rolled back
  return st;
}

// ---------------------------------------------------------------------------------------------

class SqliteAuth final : public Auth {
 public:
  explicit SqliteAuth(HostServices& host) : host_(host) {}
  ~SqliteAuth() override {
    stop();
    if (pool_) pool_->clear();
  }

  Status init() {
    const Config& cfg = host_.config();
    DFD_RETURN_IF_ERROR(cfg.allow_only({"db", DFD_AUTH_TOKEN_KEYS}));
    if (!cfg.has("db")) return cfg.error("db", "required (path of the SQLite token database)");
    auto db = cfg.get_string("db");
    if (!db.ok()) return db.status();
    if (db->empty()) return cfg.error("db", "must not be empty");
    auto settings = auth_common::parse_token_settings(cfg, host_.logger());
    if (!settings.ok()) return settings.status();
    token_ttl_ = settings->token_ttl;
    user_token_ttl_ = settings->user_token_ttl;

    auto kdf = auth_common::PasswordKdf::make("auth-sqlite", settings->kdf_iterations);
    if (!kdf.ok()) return kdf.status();
    kdf_.emplace(std::move(kdf.value()));
    // Only judged here: dfd-host --check runs create() and must leave no file behind. start()
    // makes the directory and the database.
    if (Status st = check_creatable_file(*db); !st.ok()) return cfg.error("db", st.message());
    pool_ = std::make_unique<Pool>(*db);
    pool_->set_wal_listener([this](int pages) {
      if (pages >= kCheckpointPages && !ckpt_wanted_.exchange(true, std::memory_order_relaxed)) {
        ckpt_cv_.notify_one();
      }
    });
    metrics_.init(host_.metrics());
    return Status::Ok();
  }

  Status start() noexcept override {
    return guard("auth-sqlite: start", [&]() -> Status {
      DFD_RETURN_IF_ERROR(open_database());
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      purge(lease.value());
      auto ck = pool_->acquire();  // the checkpointer's own connection
      if (!ck.ok()) return ck.status();
      ckpt_stop_ = false;
      checkpointer_ =
          std::thread([this, c = std::move(ck.value())]() mutable { checkpointer(std::move(c)); });
      host_.logger().info("token store '" + pool_->path() + "' ready");
      return Status::Ok();
    });
  }

  // Makes the database's directory and file (private to this user: it holds password hashes;
  // SQLite gives its -wal and -shm files the same mode) and opens the first connection.
  Status open_database() {
    if (opened_) return Status::Ok();
    const Config& cfg = host_.config();
    const std::string& db = pool_->path();
    std::filesystem::path path(db);
    if (path.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec) {
        return cfg.error(
            "db", "cannot create directory '" + path.parent_path().string() + "': " + ec.message());
      }
    }
    int fd = ::open(db.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
    } else if (errno != EEXIST) {
      return cfg.error("db", "cannot create '" + db +
                                 "': " + std::error_code(errno, std::generic_category()).message());
    }
    Status st = pool_->open_first();
    if (!st.ok()) return cfg.error("db", st.message());
    opened_ = true;
    return Status::Ok();
  }

  void stop() noexcept override {
    {
      std::lock_guard<std::mutex> g(ckpt_mu_);
      ckpt_stop_ = true;
    }
    ckpt_cv_.notify_one();
    if (checkpointer_.joinable()) checkpointer_.join();
  }

  Health health() const noexcept override {
    return auth_common::probe_health("auth-sqlite: health", [&](std::string& detail) -> Status {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kPing);
      if (s.step() != SQLITE_ROW) return Status::IoError(sqlite_error(lease.value()->db, "ping"));
      detail = "db " + pool_->path();
      return Status::Ok();
    });
  }

  // ---- download tokens ----

  Result<IssuedToken> issue_download_token(std::string_view scope, std::int64_t user_id,
                                           std::chrono::seconds ttl,
                                           DownloadTokenRecord* record) noexcept override {
    return guard("auth-sqlite: issue_download_token", [&]() -> Result<IssuedToken> {
      auto fresh = auth_common::new_download_token("auth-sqlite", scope, user_id, ttl, token_ttl_,
                                                   host_.clock().now());
      if (!fresh.ok()) return fresh.status();
      DFD_RETURN_IF_ERROR(group_.submit(fresh->record));
      metrics_.issued();
      const TimePoint expires = fresh->record.expires_at;
      if (record) *record = std::move(fresh->record);
      return IssuedToken{std::move(fresh->token), expires};
    });
  }

  TokenVerdict verify_download_token(std::string_view token,
                                     std::string_view scope) noexcept override {
    return metrics_.verify("auth-sqlite: verify_download_token", host_.logger(),
                           [&] { return verify(token, scope); });
  }

  Status remember_download_token(const DownloadTokenRecord& record) noexcept override {
    return remember_download_tokens(&record, 1);
  }

  // All records of one event in one transaction (one WAL append instead of one per token).
  Status remember_download_tokens(const DownloadTokenRecord* records,
                                  std::size_t n) noexcept override {
    return guard("auth-sqlite: remember_download_tokens", [&]() -> Status {
      DFD_RETURN_IF_ERROR(auth_common::check_records("auth-sqlite", records, n));
      if (n == 0) return Status::Ok();
      return write_records(
          kRememberDownload, n, [&](std::size_t i) -> auto& { return records[i]; },
          "remember download tokens");
    });
  }

  Status revoke_download_token(std::string_view token_hash) noexcept override {
    return guard("auth-sqlite: revoke_download_token", [&]() -> Status {
      if (!well_formed_hash(token_hash)) {
        return Status::InvalidArgument("auth-sqlite: token_hash is not a lower-case SHA-256 hex");
      }
      auto keep = auth_common::tombstone_seconds(token_ttl_);
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kRevokeDownload);
      s.bind(1, token_hash);
      s.bind(2, unix_seconds(host_.clock().now()) + keep);
      return lease->write(s, "revoke download token");
    });
  }

  bool needs_token_events() const noexcept override { return true; }

  // ---- users ----

  bool supports_users() const noexcept override { return true; }

  Result<User> create_user(std::string_view email, std::string_view name, std::string_view password,
                           std::string_view role) noexcept override {
    return guard("auth-sqlite: create_user", [&]() -> Result<User> {
      auto r = auth_common::check_new_user("auth-sqlite", email, password, role);
      if (!r.ok()) return r.status();
      auto stored = kdf_->hash(password);
      if (!stored.ok()) return stored.status();

      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kInsertUser);
      s.bind(1, email);
      s.bind(2, name);
      s.bind(3, *r);
      s.bind(4, stored->salt_hex);
      s.bind(5, stored->iterations);
      s.bind(6, stored->hash_hex);
      s.bind(7, unix_seconds(host_.clock().now()));
      int rc = lease->write_step(s);
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
          (rc & 0xff) == SQLITE_CONSTRAINT) {
        return Status::AlreadyExists("auth-sqlite: a user with e-mail '" + std::string(email) +
                                     "' exists already");
      }
      if (rc != SQLITE_DONE) {
        return Status::IoError(sqlite_error(lease.value()->db, "insert user"));
      }
      User u;
      u.id = sqlite3_last_insert_rowid(lease.value()->db);
      u.email = std::string(email);
      u.name = std::string(name);
      u.role = std::move(r.value());
      return u;
    });
  }

  Result<User> check_password(std::string_view email, std::string_view password) noexcept override {
    return guard("auth-sqlite: check_password", [&]() -> Result<User> {
      User u;
      auth_common::StoredPassword stored;
      bool found = false, disabled = false;
      if (auth_common::plausible_email(email)) {
        auto lease = pool_->acquire();
        if (!lease.ok()) return lease.status();
        Stmt s = lease->stmt(kSelectUserByEmail);
        s.bind(1, email);
        int rc = s.step();
        if (rc == SQLITE_ROW) {
          found = true;
          u.id = s.int64(0);
          u.email = s.text(1);
          u.name = s.text(2);
          u.role = s.text(3);
          stored = {s.text(4), s.int64(5), s.text(6)};
          disabled = s.int64(7) != 0;
        } else if (rc != SQLITE_DONE) {
          return Status::IoError(sqlite_error(lease.value()->db, "select user"));
        }
      }
      // The KDF runs whether or not the user exists, outside any lock: same time, same message.
      bool malformed = false;
      Status match = kdf_->check(password, found ? &stored : nullptr, &malformed);
      if (malformed) {
        host_.logger().error("user id " + std::to_string(u.id) +
                             ": stored password record is malformed");
      }
      if (!match.ok()) return match;
      // Said only to whoever knows the password.
      if (disabled) return Status::PermissionDenied("auth-sqlite: this account is disabled");
      return u;
    });
  }

  Result<User> find_user(std::string_view email) noexcept override {
    return guard("auth-sqlite: find_user", [&]() -> Result<User> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kSelectUserByEmail);
      s.bind(1, email);
      int rc = s.step();
      if (rc == SQLITE_ROW) {
        return User{s.int64(0), s.text(1), s.text(2), s.text(3)};
      }
      if (rc != SQLITE_DONE) return Status::IoError(sqlite_error(lease.value()->db, "find user"));
      return Status::NotFound("auth-sqlite: no user with e-mail '" +
                              std::string(email.substr(0, 254)) + "'");
    });
  }

  Result<IssuedToken> issue_user_token(std::int64_t user_id,
                                       std::chrono::seconds ttl) noexcept override {
    return guard("auth-sqlite: issue_user_token", [&]() -> Result<IssuedToken> {
      auto ttl_ok = auth_common::ttl_or("auth-sqlite", ttl, user_token_ttl_);
      if (!ttl_ok.ok()) return ttl_ok.status();
      ttl = *ttl_ok;
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      {
        Stmt s = lease->stmt(kSelectUserById);
        s.bind(1, user_id);
        int rc = s.step();
        if (rc == SQLITE_DONE) {
          return Status::NotFound("auth-sqlite: no user with id " + std::to_string(user_id));
        }
        if (rc != SQLITE_ROW) return Status::IoError(sqlite_error(lease.value()->db, "find user"));
      }
      auto token = random_token(kTokenBytes);
      if (!token.ok()) return token.status();
      std::int64_t expires = expiry_after(host_.clock().now(), ttl);
      {
        Stmt s = lease->stmt(kInsertUserToken);
        s.bind(1, sha256_hex(*token));
        s.bind(2, user_id);
        s.bind(3, expires);
        DFD_RETURN_IF_ERROR(lease->write(s, "insert user token"));
      }
      maybe_purge(lease.value());
      return IssuedToken{std::move(token.value()), from_unix(expires)};
    });
  }

  Result<User> verify_user_token(std::string_view token) noexcept override {
    return guard("auth-sqlite: verify_user_token", [&]() -> Result<User> {
      if (!well_formed_token(token)) return Status::Unauthenticated("malformed user token");
      std::string hash = sha256_hex(token);
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kSelectUserToken);
      s.bind(1, hash);
      int rc = s.step();
      if (rc == SQLITE_DONE) return Status::Unauthenticated("unknown user token");
      if (rc != SQLITE_ROW) {
        return Status::IoError(sqlite_error(lease.value()->db, "select user token"));
      }
      DFD_RETURN_IF_ERROR(auth_common::judge_user_token(s.text(0), hash, s.int64(1),
                                                        s.int64(6) != 0, host_.clock().now()));
      return User{s.int64(2), s.text(3), s.text(4), s.text(5)};
    });
  }

  Status revoke_user_token(std::string_view token) noexcept override {
    return guard("auth-sqlite: revoke_user_token", [&]() -> Status {
      if (!well_formed_token(token)) {
        return Status::InvalidArgument("auth-sqlite: malformed user token");
      }
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kDeleteUserToken);
      s.bind(1, sha256_hex(token));
      return lease->write(s, "delete user token");
    });
  }

  // ---- ABI minor 1: user administration ----

  Result<User> find_user_by_id(std::int64_t user_id) noexcept override {
    return guard("auth-sqlite: find_user_by_id", [&]() -> Result<User> {
      auto row = select_user_by_id(user_id);
      if (!row.ok()) return row.status();
      return std::move(row->first);
    });
  }

  Result<bool> user_disabled(std::int64_t user_id) noexcept override {
    return guard("auth-sqlite: user_disabled", [&]() -> Result<bool> {
      auto row = select_user_by_id(user_id);
      if (!row.ok()) return row.status();
      return row->second;
    });
  }

  // The flag and, when disabling, the deletion of the user's sessions in one transaction.
  Status set_user_disabled(std::int64_t user_id, bool disabled) noexcept override {
    return guard("auth-sqlite: set_user_disabled", [&]() -> Status {
      return update_user(
          user_id, kSetUserDisabled, [&](Stmt& s) { s.bind(2, std::int64_t{disabled ? 1 : 0}); },
          disabled, "set user disabled");
    });
  }

  Status revoke_user_tokens(std::int64_t user_id) noexcept override {
    return guard("auth-sqlite: revoke_user_tokens", [&]() -> Status {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kDeleteUserTokensOf);
      s.bind(1, user_id);
      return lease->write(s, "delete user tokens");
    });
  }

  Status revoke_download_tokens_of(std::int64_t user_id,
                                   std::vector<std::string>* hashes) noexcept override {
    return guard("auth-sqlite: revoke_download_tokens_of", [&]() -> Status {
      if (hashes) hashes->clear();
      const std::int64_t now = unix_seconds(host_.clock().now());
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      return lease->transaction("revoke a user's download tokens", [&]() -> Status {
        {
          Stmt s = lease->stmt(kRevokeDownloadsOf);
          s.bind(1, user_id);
          s.bind(2, now);
          DFD_RETURN_IF_ERROR(step_status(s.step(), lease.value()->db, "revoke download tokens"));
        }
        Stmt s = lease->stmt(kSelectRevokedOf);
        s.bind(1, user_id);
        s.bind(2, now);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) {
          if (hashes) hashes->push_back(s.text(0));
        }
        return step_status(rc, lease.value()->db, "list revoked download tokens");
      });
    });
  }

  // ---- ABI minor 2: listing users, changing a password ----

  Result<std::vector<UserEntry>> list_users(std::size_t limit,
                                            std::size_t offset) noexcept override {
    return guard("auth-sqlite: list_users", [&]() -> Result<std::vector<UserEntry>> {
      const auto page = auth_common::user_page(limit, offset);
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kListUsers);
      s.bind(1, page.limit);
      s.bind(2, page.offset);
      std::vector<UserEntry> users;
      int rc;
      while ((rc = s.step()) == SQLITE_ROW) {
        users.push_back(
            UserEntry{User{s.int64(0), s.text(1), s.text(2), s.text(3)}, s.int64(4) != 0});
      }
      DFD_RETURN_IF_ERROR(step_status(rc, lease.value()->db, "list users"));
      return users;
    });
  }

  Result<std::int64_t> count_users() noexcept override {
    return guard("auth-sqlite: count_users", [&]() -> Result<std::int64_t> {
      auto lease = pool_->acquire();
      if (!lease.ok()) return lease.status();
      Stmt s = lease->stmt(kCountUsers);
      int rc = s.step();
      if (rc != SQLITE_ROW) return Status::IoError(sqlite_error(lease.value()->db, "count users"));
      return s.int64(0);
    });
  }

  // The new hash and the deletion of the user's sessions in one transaction; the KDF runs first,
  // outside every lock.
  Status set_password(std::int64_t user_id, std::string_view new_password) noexcept override {
    return guard("auth-sqlite: set_password", [&]() -> Status {
      DFD_RETURN_IF_ERROR(auth_common::check_new_password("auth-sqlite", new_password));
      auto stored = kdf_->hash(new_password);
      if (!stored.ok()) return stored.status();
      return update_user(
          user_id, kSetPassword,
          [&](Stmt& s) {
            s.bind(2, stored->salt_hex);
            s.bind(3, stored->iterations);
            s.bind(4, stored->hash_hex);
          },
          true, "set password");
    });
  }

 private:
  // Steps `update` (on one users row: ?1 is the id, `bind` binds the rest) and, when it changed
  // the row and `end_sessions`, deletes the user's user tokens: in one transaction. kNotFound
  // when there is no such user.
  template <typename Bind>
  Status update_user(std::int64_t user_id, StmtId update, Bind&& bind, bool end_sessions,
                     std::string_view what) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    bool found = false;
    DFD_RETURN_IF_ERROR(lease->transaction(what, [&]() -> Status {
      Stmt s = lease->stmt(update);
      s.bind(1, user_id);
      bind(s);
      DFD_RETURN_IF_ERROR(step_status(s.step(), lease.value()->db, what));
      found = sqlite3_changes(lease.value()->db) > 0;
      if (!found || !end_sessions) return Status::Ok();
      Stmt d = lease->stmt(kDeleteUserTokensOf);
      d.bind(1, user_id);
      return step_status(d.step(), lease.value()->db, "delete user tokens");
    }));
    if (!found) return Status::NotFound("auth-sqlite: no user with id " + std::to_string(user_id));
    return Status::Ok();
  }

  // The user and whether it is disabled; kNotFound for an unknown id.
  Result<std::pair<User, bool>> select_user_by_id(std::int64_t user_id) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    Stmt s = lease->stmt(kSelectUserById);
    s.bind(1, user_id);
    int rc = s.step();
    if (rc == SQLITE_ROW) {
      return std::make_pair(User{s.int64(0), s.text(1), s.text(2), s.text(3)}, s.int64(4) != 0);
    }
    if (rc != SQLITE_DONE) return Status::IoError(sqlite_error(lease.value()->db, "find user"));
    return Status::NotFound("auth-sqlite: no user with id " + std::to_string(user_id));
  }

  TokenVerdict verify(std::string_view token, std::string_view scope) {
    if (!well_formed_token(token) || scope.empty()) return TokenVerdict::kInvalid;
    std::string hash = sha256_hex(token);
    auto lease = pool_->acquire();
    if (!lease.ok()) {
      host_.logger().error(lease.status().message());
      return TokenVerdict::kUnknown;
    }
    Stmt s = lease->stmt(kSelectDownload);
    s.bind(1, hash);
    int rc = s.step();
    if (rc == SQLITE_DONE) return TokenVerdict::kUnknown;
    if (rc != SQLITE_ROW) {
      host_.logger().error(sqlite_error(lease.value()->db, "select download token"));
      return TokenVerdict::kUnknown;
    }
    return auth_common::judge_download_token(s.text(0), hash, s.int64(3) != 0, s.int64(2),
                                             s.text(1), scope, host_.clock().now());
  }

  // The checkpointer thread (start() to stop()): copies the WAL into the database when a commit
  // reported kCheckpointPages or more, and once a second. PASSIVE: it never blocks a reader or a
  // writer and takes what it can; the WAL restarts from its beginning once it was fully copied.
  // A final checkpoint runs at stop().
  void checkpointer(Pool::Lease lease) {
    std::unique_lock<std::mutex> l(ckpt_mu_);
    for (;;) {
      ckpt_cv_.wait_for(l, kCheckpointEvery,
                        [&] { return ckpt_stop_ || ckpt_wanted_.load(std::memory_order_relaxed); });
      const bool last = ckpt_stop_;
      ckpt_wanted_.store(false, std::memory_order_relaxed);
      l.unlock();
      int wal = 0, copied = 0;
      int rc =
          sqlite3_wal_checkpoint_v2(lease->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal, &copied);
      if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) {
        host_.logger().warn(sqlite_error(lease->db, "checkpoint"));
      }
      l.lock();
      if (last) return;
    }
  }

  // Counts `n` writes; purges when the count crosses a multiple of kPurgeEvery.
  void maybe_purge(const Pool::Lease& lease, std::int64_t n = 1) {
    std::int64_t before = writes_.fetch_add(n, std::memory_order_relaxed);
    if (before / kPurgeEvery != (before + n) / kPurgeEvery) purge(lease);
  }

  // One transaction inserting every record of a group commit (auth_common::GroupCommit).
  Status insert_rows(const std::vector<const DownloadTokenRecord*>& batch) noexcept {
    return guard("auth-sqlite: insert download tokens", [&]() -> Status {
      return write_records(
          kInsertDownload, batch.size(), [&](std::size_t i) -> auto& { return *batch[i]; },
          "insert download tokens");
    });
  }

  // Steps statement `id` (a download token row: ?1 hash, ?2 scope, ?3 user, ?4 expiry) for the
  // `n` records `at(0)`..`at(n-1)` in one transaction, then counts them towards the next purge.
  template <typename At>
  Status write_records(StmtId id, std::size_t n, At&& at, std::string_view what) {
    auto lease = pool_->acquire();
    if (!lease.ok()) return lease.status();
    DFD_RETURN_IF_ERROR(lease->transaction(what, [&]() -> Status {
      for (std::size_t i = 0; i < n; ++i) {
        const DownloadTokenRecord& r = at(i);
        Stmt s = lease->stmt(id);
        s.bind(1, r.token_hash);
        s.bind(2, r.scope);
        s.bind(3, r.user_id);
        s.bind(4, unix_seconds(r.expires_at));
        DFD_RETURN_IF_ERROR(step_status(s.step(), lease.value()->db, what));
      }
      return Status::Ok();
    }));
    maybe_purge(lease.value(), static_cast<std::int64_t>(n));
    return Status::Ok();
  }

  // Deletes rows expired for longer than kPurgeGraceS. Failures are logged, not returned.
  void purge(const Pool::Lease& lease) {
    std::int64_t cutoff = unix_seconds(host_.clock().now()) - kPurgeGraceS;
    for (StmtId id : {kPurgeDownload, kPurgeUserTokens}) {
      Stmt s = lease.stmt(id);
      s.bind(1, cutoff);
      Status st = lease.write(s, "purge expired tokens");
      if (!st.ok()) host_.logger().warn(st.message());
    }
  }

  HostServices& host_;
  std::unique_ptr<Pool> pool_;
  std::chrono::seconds token_ttl_{3600};
  std::chrono::seconds user_token_ttl_{1209600};
  std::optional<auth_common::PasswordKdf> kdf_;  // set by init()
  bool opened_ = false;                          // the database exists and is open (start())
  std::atomic<std::int64_t> writes_{0};
  // Checkpointer thread (checkpointer()).
  std::thread checkpointer_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ = false;                // guarded by ckpt_mu_
  std::atomic<bool> ckpt_wanted_{false};  // a commit saw a WAL of kCheckpointPages or more
  // Concurrent issues share one transaction.
  auth_common::GroupCommit group_{[this](const auto& batch) { return insert_rows(batch); }};
  auth_common::TokenMetrics metrics_;
};

const PluginKind* kNoRequirements = nullptr;

}  // namespace
}  // namespace dfd::auth_sqlite

DFD_PLUGIN(dfd::PluginKind::kAuth, "auth-sqlite", "1.0.0",
           "Download tokens, users and user tokens in SQLite (hashes only, PBKDF2 passwords)",
           dfd::auth_sqlite::kNoRequirements, 0, &dfd::create_plugin<dfd::auth_sqlite::SqliteAuth>,
           &dfd::destroy_plugin<dfd::auth_sqlite::SqliteAuth>)
