// dfd SDK — auth plugins: users, user tokens, and download tokens.
//
// Tokens are random (>= 128 bits) or self-verifying (signed); a store keeps only their SHA-256.
// Comparisons of secrets are constant-time. Passwords are kept only as a slow salted KDF.
// Nothing here logs a secret.
//
// Download tokens flow: the info server calls issue_download_token(); the returned
// DownloadTokenRecord (hash, scope, expiry — never the token itself) is published as the
// `token.issued` event when needs_token_events() is true; each file server passes the event's
// record to remember_download_token(); verify_download_token() then accepts the token.
//
// Thread-safety: every method is safe to call concurrently from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/plugin.hpp"

namespace dfd {

using TimePoint = std::chrono::system_clock::time_point;

struct User {
  std::int64_t id = 0;
  std::string email;
  std::string name;
  std::string role;  // "admin" or "user"
};

// One row of list_users() (ABI minor 2): a user and whether it is disabled. A struct of its own so
// that User's layout, which crosses the plugin boundary since minor 0, never changes.
struct UserEntry {
  User user;
  bool disabled = false;
};

struct IssuedToken {
  std::string token;  // the secret, given to the caller once; never stored or logged
  TimePoint expires_at;
};

// What a file server needs to accept a download token it did not issue (the event body).
struct DownloadTokenRecord {
  std::string token_hash;  // lower-case hex SHA-256 of the token
  std::string scope;       // the file uid the token is for
  std::int64_t user_id = 0;
  TimePoint expires_at;
};

enum class TokenVerdict : int {
  kValid = 0,
  kUnknown = 1,  // not (yet) known to this store: its event may still be in flight
  kExpired = 2,
  kWrongScope = 3,  // valid token for another file
  kInvalid = 4,     // malformed, tampered, empty
  kRevoked = 5,
};

constexpr const char* verdict_name(TokenVerdict v) noexcept {
  switch (v) {
    case TokenVerdict::kValid:
      return "valid";
    case TokenVerdict::kUnknown:
      return "unknown";
    case TokenVerdict::kExpired:
      return "expired";
    case TokenVerdict::kWrongScope:
      return "wrong_scope";
    case TokenVerdict::kInvalid:
      return "invalid";
    case TokenVerdict::kRevoked:
      return "revoked";
  }
  return "invalid";
}

class Auth : public Plugin {
 public:
  static constexpr PluginKind kKind = PluginKind::kAuth;

  // ---- download tokens ----
  // A fresh token for `scope` (a file uid) valid for `ttl`. `record` receives what file servers
  // need to accept it (publish it when needs_token_events()).
  virtual Result<IssuedToken> issue_download_token(std::string_view scope, std::int64_t user_id,
                                                   std::chrono::seconds ttl,
                                                   DownloadTokenRecord* record) noexcept = 0;
  // Checks `token` for `scope` at the current time. Never throws, never logs the token.
  virtual TokenVerdict verify_download_token(std::string_view token,
                                             std::string_view scope) noexcept = 0;
  // Stores a record learned from a `token.issued` event. Idempotent (redelivery is normal).
  virtual Status remember_download_token(const DownloadTokenRecord& record) noexcept = 0;
  // Stores the `n` records of one event (the info server groups tokens issued together). The
  // same contract as remember_download_token() for each record; a store may write them in one
  // transaction. On an error some may be stored and some not: the caller retries them all
  // (redelivery), which idempotence makes safe. The default calls remember_download_token().
  virtual Status remember_download_tokens(const DownloadTokenRecord* records,
                                          std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      Status st = remember_download_token(records[i]);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
  // Revokes by hash (a `token.revoked` event). Idempotent.
  virtual Status revoke_download_token(std::string_view token_hash) noexcept = 0;
  // True when file servers learn tokens through events (a store); false for self-verifying
  // tokens (auth-hmac), which need no event.
  virtual bool needs_token_events() const noexcept = 0;

  // ---- users (optional: supports_users() false → every call returns kNotSupported) ----
  virtual bool supports_users() const noexcept { return false; }
  // Creates a user; kAlreadyExists for a known e-mail; kInvalidArgument for an empty password.
  virtual Result<User> create_user(std::string_view email, std::string_view name,
                                   std::string_view password, std::string_view role) noexcept {
    (void)email, (void)name, (void)password, (void)role;
    return Status::NotSupported("this auth plugin stores no users");
  }
  // The user when e-mail and password match; kUnauthenticated otherwise (same message and
  // similar time whether the e-mail exists or not).
  virtual Result<User> check_password(std::string_view email, std::string_view password) noexcept {
    (void)email, (void)password;
    return Status::NotSupported("this auth plugin stores no users");
  }
  virtual Result<User> find_user(std::string_view email) noexcept {
    (void)email;
    return Status::NotSupported("this auth plugin stores no users");
  }
  virtual Result<IssuedToken> issue_user_token(std::int64_t user_id,
                                               std::chrono::seconds ttl) noexcept {
    (void)user_id, (void)ttl;
    return Status::NotSupported("this auth plugin stores no users");
  }
  // The user a user token belongs to; kUnauthenticated when unknown or expired.
  virtual Result<User> verify_user_token(std::string_view token) noexcept {
    (void)token;
    return Status::NotSupported("this auth plugin stores no users");
  }
  virtual Status revoke_user_token(std::string_view token) noexcept {
    (void)token;
    return Status::NotSupported("this auth plugin stores no users");
  }

  // ---- ABI minor 1 (appended; SQLite iVersion style) ----
  // A plugin built against minor 0 lacks these slots: call them only on a plugin whose
  // descriptor's abi_minor is >= 1 (dfd/abi.hpp: plugin_abi_minor()). The defaults
  // answer kNotSupported.

  // The user with this id (kNotFound when there is none). Disabled users are found too.
  virtual Result<User> find_user_by_id(std::int64_t user_id) noexcept {
    (void)user_id;
    return Status::NotSupported("this auth plugin stores no users");
  }
  // Disables (or enables again) a user. A disabled user's check_password() answers
  // kPermissionDenied (after the same KDF work, and only for the right password), and
  // verify_user_token() answers kUnauthenticated for every token of that user; disabling also
  // deletes the user's user tokens. kNotFound for an unknown id. Idempotent.
  virtual Status set_user_disabled(std::int64_t user_id, bool disabled) noexcept {
    (void)user_id, (void)disabled;
    return Status::NotSupported("this auth plugin stores no users");
  }
  // True when the user is disabled (kNotFound for an unknown id).
  virtual Result<bool> user_disabled(std::int64_t user_id) noexcept {
    (void)user_id;
    return Status::NotSupported("this auth plugin stores no users");
  }
  // Deletes every user token of `user_id` (all sessions end). Idempotent; Ok for an unknown id.
  virtual Status revoke_user_tokens(std::int64_t user_id) noexcept {
    (void)user_id;
    return Status::NotSupported("this auth plugin stores no users");
  }
  // Revokes, in this store, every unexpired download token issued here to `user_id`, and stores
  // in *hashes (cleared first) the hashes of all of that user's unexpired revoked tokens — the
  // ones revoked now and any revoked before — so the caller can publish one `token.revoked`
  // event per hash for the file servers, and a caller whose publishing failed can simply call
  // again. A store that does not remember issued tokens answers kNotSupported.
  virtual Status revoke_download_tokens_of(std::int64_t user_id,
                                           std::vector<std::string>* hashes) noexcept {
    (void)user_id, (void)hashes;
    return Status::NotSupported("this auth plugin does not remember the tokens it issued");
  }

  // ---- ABI minor 2 (appended; SQLite iVersion style) ----
  // A plugin built against minor 0 or 1 lacks these slots: call them only on a plugin whose
  // descriptor's abi_minor is >= 2 (info-core checks with dfd/abi.hpp's plugin_abi_minor() and
  // answers 501 otherwise). The defaults answer kNotSupported.

  // At most `limit` users in id order, skipping the first `offset`; disabled ones included (with
  // their flag). An offset past the end gives an empty list. `limit` 0 gives an empty list.
  virtual Result<std::vector<UserEntry>> list_users(std::size_t limit,
                                                    std::size_t offset) noexcept {
    (void)limit, (void)offset;
    return Status::NotSupported("this auth plugin cannot list users");
  }
  // How many users exist (disabled ones included), for paging.
  virtual Result<std::int64_t> count_users() noexcept {
    return Status::NotSupported("this auth plugin cannot list users");
  }
  // Replaces the password of `user_id`: a new random KDF salt, the configured iterations. It
  // also ends every session of the user: all of the user's user tokens are deleted in the same
  // transaction (the caller issues a fresh token if the user's own session should go on). The
  // disabled flag and download tokens are left as they are. kNotFound for an unknown id,
  // kInvalidArgument for an empty password. The password is never stored or logged.
  virtual Status set_password(std::int64_t user_id, std::string_view new_password) noexcept {
    (void)user_id, (void)new_password;
    return Status::NotSupported("this auth plugin cannot change passwords");
  }
};

}  // namespace dfd
