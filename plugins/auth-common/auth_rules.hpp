// dfd_auth_common — the rules every stored-token auth plugin (auth-sqlite, auth-postgres)
// applies the same way: token size and well-formedness, hash form, e-mail rule, expiry rounding,
// the download-token and user-token verdicts. Pure functions; any thread. See docs/auth.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "dfd/auth.hpp"

namespace dfd::auth_common {

constexpr std::chrono::seconds kMaxTtl{10LL * 366 * 86400};
constexpr std::size_t kTokenBytes = 32;         // 256 bits of CSPRNG output per token
constexpr std::int64_t kPurgeGraceS = 300;      // expired rows kept this long (kExpired)
constexpr std::int64_t kTombstoneMinS = 86400;  // revoked-before-known rows live at least this
constexpr const char* kLoginError = "invalid e-mail or password";

std::int64_t unix_seconds(TimePoint t);
TimePoint from_unix(std::int64_t s);
// now + ttl, rounded up to a whole second (the unit of the token.issued event): a token lives at
// least `ttl`.
std::int64_t expiry_after(TimePoint now, std::chrono::seconds ttl);
// How long a revocation tombstone lives: max(1 day, 2 × the download-token ttl).
std::int64_t tombstone_seconds(std::chrono::seconds token_ttl);

// A token such a store could have issued: URL-safe base64, 128..2048 bits (22..342 chars).
bool well_formed_token(std::string_view t);
// A lower-case hex SHA-256 (64 characters).
bool well_formed_hash(std::string_view h);
// One '@', non-empty parts, printable ASCII without spaces or <>",;\, <= 254 chars, a domain
// without leading/trailing/double dots.
bool plausible_email(std::string_view e);

// The verdict for a stored download-token row (`row_hash` as stored) and a presented token whose
// hash is `hash`, in the documented order: another hash → kUnknown, revoked → kRevoked,
// now >= expiry → kExpired, other scope → kWrongScope, else kValid.
TokenVerdict judge_download_token(std::string_view row_hash, std::string_view hash, bool revoked,
                                  std::int64_t expires_at, std::string_view row_scope,
                                  std::string_view scope, TimePoint now);

// The user-token rule after a row was found: Ok, or kUnauthenticated ("unknown user token",
// "user token expired; log in again", "the user is disabled").
Status judge_user_token(std::string_view row_hash, std::string_view hash, std::int64_t expires_at,
                        bool disabled, TimePoint now);

// The ttl a token is issued with: `ttl`, or `fallback` when `ttl` <= 0; kInvalidArgument ("WHO:
// token ttl longer than 10 years") beyond kMaxTtl.
Result<std::chrono::seconds> ttl_or(std::string_view who, std::chrono::seconds ttl,
                                    std::chrono::seconds fallback);

// A fresh download token (kTokenBytes from the CSPRNG, base64url) and its record: the hash, the
// scope, the user and the expiry (now + ttl_or(ttl, fallback), rounded up to a second). Errors:
// an empty scope or a ttl beyond kMaxTtl (kInvalidArgument prefixed with `who`).
struct NewToken {
  std::string token;
  DownloadTokenRecord record;
};
Result<NewToken> new_download_token(std::string_view who, std::string_view scope,
                                    std::int64_t user_id, std::chrono::seconds ttl,
                                    std::chrono::seconds fallback, TimePoint now);

// Health from `probe` (guarded by `context`): healthy with `detail` filled by the probe, or
// unhealthy with the error's message.
template <typename Probe>
Health probe_health(std::string_view context, Probe&& probe) noexcept {
  Health h;
  Status st = guard(context, [&]() -> Status { return probe(h.detail); });
  if (!st.ok()) {
    h.healthy = false;
    h.detail = st.message();
  }
  return h;
}

// Records of a token.issued event a store may remember: every hash a lower-case hex SHA-256,
// every scope non-empty; otherwise kInvalidArgument prefixed with `who` (and nothing is stored).
Status check_records(std::string_view who, const DownloadTokenRecord* records, std::size_t n);

// A new password (create_user, set_password): kInvalidArgument ("WHO: empty password") when
// empty. Length limits beyond that are the info server's (docs/api.md).
Status check_new_password(std::string_view who, std::string_view password);

// list_users()'s bounds as SQL parameters (BIGINT): both capped at INT64_MAX.
struct UserPage {
  std::int64_t limit = 0;
  std::int64_t offset = 0;
};
UserPage user_page(std::size_t limit, std::size_t offset);

// A new user's role: "" → "user"; "admin"/"user" kept; otherwise kInvalidArgument prefixed with
// `who`. The e-mail and password rules too (plausible e-mail, non-empty password).
Result<std::string> check_new_user(std::string_view who, std::string_view email,
                                   std::string_view password, std::string_view role);

}  // namespace dfd::auth_common
