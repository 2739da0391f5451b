// auth-postgres: download tokens, users and user tokens in PostgreSQL — auth-sqlite's semantics
// (docs/auth.md) on a database several servers share: a user token issued through one instance
// verifies through every other, a disabled user is disabled for all, a revocation is seen by all.
//
// Secrets are never stored or logged: tokens only as their SHA-256 (hex), passwords only as
// PBKDF2-HMAC-SHA256 (dfd_auth_common). Every statement is prepared once per pooled connection
// (dfd_pg); reads and idempotent writes are retried once on a lost connection; creating a user is
// not (a retry could report the user's own row as a duplicate).
//
// Thread-safety: every public method may be called from any thread; the pool hands each call its
// own connection. One thread of its own (start() to stop()) purges expired rows.
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth_pg_purger.hpp"
#include "auth_pg_schema.hpp"
#include "auth_rules.hpp"
#include "auth_settings.hpp"
#include "dfd/auth.hpp"
#include "dfd/events.hpp"
#include "dfd/plugin.hpp"
#include "group_commit.hpp"
#include "password_kdf.hpp"
#include "pg_migrate.hpp"
#include "pg_pool.hpp"
#include "pg_settings.hpp"
#include "token_metrics.hpp"

namespace dfd::auth_postgres {
namespace {

using auth_common::expiry_after;
using auth_common::from_unix;
using auth_common::kTokenBytes;
using auth_common::unix_seconds;
using auth_common::well_formed_hash;
using auth_common::well_formed_token;
using pg::param;
using pg::Retry;

constexpr const char* kWho = "auth-postgres";
constexpr std::int64_t kPurgeEvery = 1024;  // a purge after every N writes
constexpr std::chrono::seconds kPurgeInterval{60};

pg::Param flag(bool b) {
  return std::string(b ? "true" : "false");
}

// The parameters of kInsertDownload for a record.
pg::Params row_params(const DownloadTokenRecord& r) {
  return {r.token_hash, r.scope, param(r.user_id), param(unix_seconds(r.expires_at))};
}

// The user in columns first_col.. (id, email, name, role) of row `row`.
User user_of(const pg::Rows& r, int first_col, int row = 0) {
  return User{r.int64(row, first_col), r.text(row, first_col + 1), r.text(row, first_col + 2),
              r.text(row, first_col + 3)};
}

class PostgresAuth final : public Auth {
 public:
  explicit PostgresAuth(HostServices& host)
      : host_(host), purger_([this] { purge(); }, kPurgeInterval) {}
  ~PostgresAuth() override { stop(); }

  Status init() {
    const Config& cfg = host_.config();
    DFD_RETURN_IF_ERROR(cfg.allow_only({DFD_PG_CONFIG_KEYS, DFD_AUTH_TOKEN_KEYS}));
    auto pgs = pg::parse_settings(cfg);
    if (!pgs.ok()) return pgs.status();
    auto settings = auth_common::parse_token_settings(cfg, host_.logger());
    if (!settings.ok()) return settings.status();
    token_ttl_ = settings->token_ttl;
    user_token_ttl_ = settings->user_token_ttl;
    auto kdf = auth_common::PasswordKdf::make(kWho, settings->kdf_iterations);
    if (!kdf.ok()) return kdf.status();
    kdf_.emplace(std::move(kdf.value()));

    settings_ = std::move(pgs.value());
    metrics_.init(host_.metrics());
    return Status::Ok();
  }

  // Connects and migrates here, not in init(): `dfd-host --check` creates plugins without
  // starting them and must need no database.
  Status start() noexcept override {
    return guard("auth-postgres: start", [&]() -> Status {
      const Config& cfg = host_.config();
      auto pool = pg::Pool::open(settings_, kWho);
      if (!pool.ok()) return cfg.error("dsn", pool.status().message());
      Status st = pg::migrate(*pool.value(), "auth", migrations());
      if (!st.ok()) return cfg.error("dsn", st.message());
      pool_ = std::move(pool.value());
      purge();
      purger_.start();
      host_.logger().info("token store at PostgreSQL " + pool_->target() + " ready");
      return Status::Ok();
    });
  }

  void stop() noexcept override { purger_.stop(); }

  Health health() const noexcept override {
    return auth_common::probe_health("auth-postgres: health", [&](std::string& detail) -> Status {
      DFD_RETURN_IF_ERROR(pool().run(kPing, {}, Retry::kSafe).status());
      detail = "postgresql " + pool().target();
      return Status::Ok();
    });
  }

  // ---- download tokens ----

  Result<IssuedToken> issue_download_token(std::string_view scope, std::int64_t user_id,
                                           std::chrono::seconds ttl,
                                           DownloadTokenRecord* record) noexcept override {
    return guard("auth-postgres: issue_download_token", [&]() -> Result<IssuedToken> {
      auto fresh = auth_common::new_download_token(kWho, scope, user_id, ttl, token_ttl_,
                                                   host_.clock().now());
      if (!fresh.ok()) return fresh.status();
      // Concurrent issues share one transaction (one WAL flush); ON CONFLICT DO NOTHING on a
      // fresh 256-bit hash makes a retry after a lost connection harmless.
      DFD_RETURN_IF_ERROR(group_.submit(fresh->record));
      metrics_.issued();
      const TimePoint expires_at = fresh->record.expires_at;
      if (record) *record = std::move(fresh->record);
      return IssuedToken{std::move(fresh->token), expires_at};
    });
  }

  TokenVerdict verify_download_token(std::string_view token,
                                     std::string_view scope) noexcept override {
    return metrics_.verify("auth-postgres: verify_download_token", host_.logger(),
                           [&] { return verify(token, scope); });
  }

  Status remember_download_token(const DownloadTokenRecord& record) noexcept override {
    return remember_download_tokens(&record, 1);
  }

  // All records of one event in one transaction; the first record of a hash wins.
  Status remember_download_tokens(const DownloadTokenRecord* records,
                                  std::size_t n) noexcept override {
    return guard("auth-postgres: remember_download_tokens", [&]() -> Status {
      DFD_RETURN_IF_ERROR(auth_common::check_records("auth-postgres", records, n));
      if (n == 0) return Status::Ok();
      return insert_rows(
          n, [&](std::size_t i) -> auto& { return records[i]; });
    });
  }

  Status revoke_download_token(std::string_view token_hash) noexcept override {
    return guard("auth-postgres: revoke_download_token", [&]() -> Status {
      if (!well_formed_hash(token_hash)) {
        return Status::InvalidArgument("auth-postgres: token_hash is not a lower-case SHA-256 hex");
      }
      const std::int64_t until =
          unix_seconds(host_.clock().now()) + auth_common::tombstone_seconds(token_ttl_);
      return pool().run(kRevokeDownload, {param(token_hash), param(until)}, Retry::kSafe).status();
    });
  }

  bool needs_token_events() const noexcept override { return true; }

  // ---- users ----

  bool supports_users() const noexcept override { return true; }

  Result<User> create_user(std::string_view email, std::string_view name, std::string_view password,
                           std::string_view role) noexcept override {
    return guard("auth-postgres: create_user", [&]() -> Result<User> {
      auto r = auth_common::check_new_user(kWho, email, password, role);
      if (!r.ok()) return r.status();
      auto stored = kdf_->hash(password);
      if (!stored.ok()) return stored.status();
      auto row =
          pool().run(kInsertUser,
                     {param(email), param(name), *r, stored->salt_hex, param(stored->iterations),
                      stored->hash_hex, param(unix_seconds(host_.clock().now()))},
                     Retry::kNo);
      if (row.status().code() == Code::kAlreadyExists) {
        return Status::AlreadyExists("auth-postgres: a user with e-mail '" + std::string(email) +
                                     "' exists already");
      }
      if (!row.ok()) return row.status();
      return User{row->int64(0, 0), std::string(email), std::string(name), std::move(r.value())};
    });
  }

  Result<User> check_password(std::string_view email, std::string_view password) noexcept override {
    return guard("auth-postgres: check_password", [&]() -> Result<User> {
      User u;
      auth_common::StoredPassword stored;
      bool found = false, disabled = false;
      if (auth_common::plausible_email(email)) {
        auto r = pool().run(kSelectUserByEmail, {param(email)}, Retry::kSafe);
        if (!r.ok()) return r.status();
        if (r->size() > 0) {
          found = true;
          u = user_of(*r, 0);
          stored = {r->text(0, 4), r->int64(0, 5), r->text(0, 6)};
          disabled = r->boolean(0, 7);
        }
      }
      // The KDF runs whether or not the user exists, with no connection held: same time, same
      // message.
      bool malformed = false;
      Status match = kdf_->check(password, found ? &stored : nullptr, &malformed);
      if (malformed) {
        host_.logger().error("user id " + std::to_string(u.id) +
                             ": stored password record is malformed");
      }
      if (!match.ok()) return match;
      // Said only to whoever knows the password.
      if (disabled) return Status::PermissionDenied("auth-postgres: this account is disabled");
      return u;
    });
  }

  Result<User> find_user(std::string_view email) noexcept override {
    return guard("auth-postgres: find_user", [&]() -> Result<User> {
      auto r = pool().run(kSelectUserByEmail, {param(email)}, Retry::kSafe);
      if (!r.ok()) return r.status();
      if (r->size() > 0) return user_of(*r, 0);
      return Status::NotFound("auth-postgres: no user with e-mail '" +
                              std::string(email.substr(0, 254)) + "'");
    });
  }

  Result<IssuedToken> issue_user_token(std::int64_t user_id,
                                       std::chrono::seconds ttl) noexcept override {
    return guard("auth-postgres: issue_user_token", [&]() -> Result<IssuedToken> {
      auto ttl_ok = auth_common::ttl_or("auth-postgres", ttl, user_token_ttl_);
      if (!ttl_ok.ok()) return ttl_ok.status();
      ttl = *ttl_ok;
      auto user = select_user_by_id(user_id);
      if (!user.ok()) return user.status();
      auto token = random_token(kTokenBytes);
      if (!token.ok()) return token.status();
      const std::int64_t expires = expiry_after(host_.clock().now(), ttl);
      auto r = pool().run(kInsertUserToken, {sha256_hex(*token), param(user_id), param(expires)},
                          Retry::kSafe);
      if (!r.ok()) {
        // The user was deleted meanwhile (foreign key).
        if (r.status().code() == Code::kIoError && user_gone(user_id)) {
          return Status::NotFound("auth-postgres: no user with id " + std::to_string(user_id));
        }
        return r.status();
      }
      counted_write();
      return IssuedToken{std::move(token.value()), from_unix(expires)};
    });
  }

  Result<User> verify_user_token(std::string_view token) noexcept override {
    return guard("auth-postgres: verify_user_token", [&]() -> Result<User> {
      if (!well_formed_token(token)) return Status::Unauthenticated("malformed user token");
      const std::string hash = sha256_hex(token);
      auto r = pool().run(kSelectUserToken, {hash}, Retry::kSafe);
      if (!r.ok()) return r.status();
      if (r->size() == 0) return Status::Unauthenticated("unknown user token");
      DFD_RETURN_IF_ERROR(auth_common::judge_user_token(r->text(0, 0), hash, r->int64(0, 1),
                                                        r->boolean(0, 6), host_.clock().now()));
      return user_of(*r, 2);
    });
  }

  Status revoke_user_token(std::string_view token) noexcept override {
    return guard("auth-postgres: revoke_user_token", [&]() -> Status {
      if (!well_formed_token(token)) {
        return Status::InvalidArgument("auth-postgres: malformed user token");
      }
      return pool().run(kDeleteUserToken, {sha256_hex(token)}, Retry::kSafe).status();
    });
  }

  // ---- ABI minor 1: user administration ----

  Result<User> find_user_by_id(std::int64_t user_id) noexcept override {
    return guard("auth-postgres: find_user_by_id", [&]() -> Result<User> {
      auto row = select_user_by_id(user_id);
      if (!row.ok()) return row.status();
      return std::move(row->first);
    });
  }

  Result<bool> user_disabled(std::int64_t user_id) noexcept override {
    return guard("auth-postgres: user_disabled", [&]() -> Result<bool> {
      auto row = select_user_by_id(user_id);
      if (!row.ok()) return row.status();
      return row->second;
    });
  }

  // The flag and, when disabling, the deletion of the user's sessions in one transaction.
  Status set_user_disabled(std::int64_t user_id, bool disabled) noexcept override {
    return guard("auth-postgres: set_user_disabled", [&]() -> Status {
      return update_user(kSetUserDisabled, {param(user_id), flag(disabled)}, user_id, disabled);
    });
  }

  Status revoke_user_tokens(std::int64_t user_id) noexcept override {
    return guard("auth-postgres: revoke_user_tokens", [&]() -> Status {
      return pool().run(kDeleteUserTokensOf, {param(user_id)}, Retry::kSafe).status();
    });
  }

  Status revoke_download_tokens_of(std::int64_t user_id,
                                   std::vector<std::string>* hashes) noexcept override {
    return guard("auth-postgres: revoke_download_tokens_of", [&]() -> Status {
      const std::int64_t now = unix_seconds(host_.clock().now());
      std::vector<std::string> found;
      DFD_RETURN_IF_ERROR(pool().transaction(Retry::kSafe, [&](pg::Connection& c) -> Status {
        found.clear();
        DFD_RETURN_IF_ERROR(c.run(kRevokeDownloadsOf, {param(user_id), param(now)}).status());
        auto r = c.run(kSelectRevokedOf, {param(user_id), param(now)});
        if (!r.ok()) return r.status();
        for (int i = 0; i < r->size(); ++i) found.push_back(r->text(i, 0));
        return Status::Ok();
      }));
      if (hashes) *hashes = std::move(found);
      return Status::Ok();
    });
  }

  // ---- ABI minor 2: listing users, changing a password ----

  Result<std::vector<UserEntry>> list_users(std::size_t limit,
                                            std::size_t offset) noexcept override {
    return guard("auth-postgres: list_users", [&]() -> Result<std::vector<UserEntry>> {
      const auto page = auth_common::user_page(limit, offset);
      auto r = pool().run(kListUsers, {param(page.limit), param(page.offset)}, Retry::kSafe);
      if (!r.ok()) return r.status();
      std::vector<UserEntry> users;
      for (int i = 0; i < r->size(); ++i) users.push_back({user_of(*r, 0, i), r->boolean(i, 4)});
      return users;
    });
  }

  Result<std::int64_t> count_users() noexcept override {
    return guard("auth-postgres: count_users", [&]() -> Result<std::int64_t> {
      auto r = pool().run(kCountUsers, {}, Retry::kSafe);
      if (!r.ok()) return r.status();
      return r->int64(0, 0);
    });
  }

  // The new hash and the deletion of the user's sessions in one transaction (idempotent as a
  // whole: a retry writes the same hash); the KDF runs first, with no connection held.
  Status set_password(std::int64_t user_id, std::string_view new_password) noexcept override {
    return guard("auth-postgres: set_password", [&]() -> Status {
      DFD_RETURN_IF_ERROR(auth_common::check_new_password(kWho, new_password));
      auto stored = kdf_->hash(new_password);
      if (!stored.ok()) return stored.status();
      return update_user(
          kSetPassword,
          {param(user_id), stored->salt_hex, param(stored->iterations), stored->hash_hex}, user_id,
          true);
    });
  }

 private:
  // Runs `update` (on the users row of `user_id`) and, when it changed the row and
  // `end_sessions`, deletes the user's user tokens: in one transaction, retry-safe as a whole.
  // kNotFound when there is no such user.
  Status update_user(const pg::Statement& update, const pg::Params& params, std::int64_t user_id,
                     bool end_sessions) {
    bool found = false;
    DFD_RETURN_IF_ERROR(pool().transaction(Retry::kSafe, [&](pg::Connection& c) -> Status {
      auto u = c.run(update, params);
      if (!u.ok()) return u.status();
      found = u->affected() > 0;
      if (!found || !end_sessions) return Status::Ok();
      return c.run(kDeleteUserTokensOf, {param(user_id)}).status();
    }));
    if (!found) {
      return Status::NotFound("auth-postgres: no user with id " + std::to_string(user_id));
    }
    return Status::Ok();
  }

  // Inserts records at(0)..at(n-1) in one transaction (first record of a hash wins), then counts
  // them towards the next purge. Retry-safe as a whole.
  template <typename At>
  Status insert_rows(std::size_t n, At&& at) {
    if (n == 1) {  // one round trip, no BEGIN/COMMIT
      DFD_RETURN_IF_ERROR(pool().run(kInsertDownload, row_params(at(0)), Retry::kSafe).status());
    } else {
      DFD_RETURN_IF_ERROR(pool().transaction(Retry::kSafe, [&](pg::Connection& c) -> Status {
        for (std::size_t i = 0; i < n; ++i) {
          DFD_RETURN_IF_ERROR(c.run(kInsertDownload, row_params(at(i))).status());
        }
        return Status::Ok();
      }));
    }
    counted_write(static_cast<std::int64_t>(n));
    return Status::Ok();
  }

  // The pool; before start() a call fails (guard turns this into kInternal / kUnknown).
  pg::Pool& pool() const {
    if (!pool_) throw std::logic_error("not started: no PostgreSQL connection yet");
    return *pool_;
  }

  // The user and whether it is disabled; kNotFound for an unknown id.
  Result<std::pair<User, bool>> select_user_by_id(std::int64_t user_id) {
    auto r = pool().run(kSelectUserById, {param(user_id)}, Retry::kSafe);
    if (!r.ok()) return r.status();
    if (r->size() == 0) {
      return Status::NotFound("auth-postgres: no user with id " + std::to_string(user_id));
    }
    return std::make_pair(user_of(*r, 0), r->boolean(0, 4));
  }

  bool user_gone(std::int64_t user_id) {
    auto u = select_user_by_id(user_id);
    return u.status().code() == Code::kNotFound;
  }

  TokenVerdict verify(std::string_view token, std::string_view scope) {
    if (!well_formed_token(token) || scope.empty()) return TokenVerdict::kInvalid;
    const std::string hash = sha256_hex(token);
    auto r = pool().run(kSelectDownload, {hash}, Retry::kSafe);
    if (!r.ok()) {
      host_.logger().error(r.status().message());
      return TokenVerdict::kUnknown;
    }
    if (r->size() == 0) return TokenVerdict::kUnknown;
    return auth_common::judge_download_token(r->text(0, 0), hash, r->boolean(0, 3), r->int64(0, 2),
                                             r->text(0, 1), scope, host_.clock().now());
  }

  // Counts `n` writes; asks the purger for a purge when the count crosses a multiple of
  // kPurgeEvery.
  void counted_write(std::int64_t n = 1) {
    std::int64_t before = writes_.fetch_add(n, std::memory_order_relaxed);
    if (before / kPurgeEvery != (before + n) / kPurgeEvery) purger_.kick();
  }

  // Deletes rows expired for longer than kPurgeGraceS. Failures are logged, not returned.
  void purge() noexcept {
    Status st = guard("auth-postgres: purge", [&]() -> Status {
      const std::int64_t cutoff = unix_seconds(host_.clock().now()) - auth_common::kPurgeGraceS;
      for (const pg::Statement* s : {&kPurgeDownload, &kPurgeUserTokens}) {
        DFD_RETURN_IF_ERROR(pool().run(*s, {param(cutoff)}, Retry::kSafe).status());
      }
      return Status::Ok();
    });
    if (!st.ok()) host_.logger().warn("purge of expired tokens: " + st.message());
  }

  HostServices& host_;
  pg::Settings settings_;           // from init()
  std::unique_ptr<pg::Pool> pool_;  // from start(); every call below runs after start()
  std::optional<auth_common::PasswordKdf> kdf_;  // set by init()
  std::chrono::seconds token_ttl_{3600};
  std::chrono::seconds user_token_ttl_{1209600};
  std::atomic<std::int64_t> writes_{0};
  auth_common::TokenMetrics metrics_;
  // Concurrent issues share one transaction.
  auth_common::GroupCommit group_{[this](const std::vector<const DownloadTokenRecord*>& batch) {
    return guard("auth-postgres: insert download tokens", [&]() -> Status {
      return insert_rows(
          batch.size(), [&](std::size_t i) -> auto& { return *batch[i]; });
    });
  }};
  Purger purger_;  // last: its thread stops before the members it uses go
};

const PluginKind* kNoRequirements = nullptr;

}  // namespace
}  // namespace dfd::auth_postgres

DFD_PLUGIN(dfd::PluginKind::kAuth, "auth-postgres", "1.0.0",
           "Download tokens, users and user tokens in PostgreSQL, shared by several servers "
           "(hashes only, PBKDF2 passwords)",
           dfd::auth_postgres::kNoRequirements, 0,
           &dfd::create_plugin<dfd::auth_postgres::PostgresAuth>,
           &dfd::destroy_plugin<dfd::auth_postgres::PostgresAuth>)
