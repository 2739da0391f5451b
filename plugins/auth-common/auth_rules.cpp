#include "auth_rules.hpp"

#include <algorithm>

#include "dfd/events.hpp"

namespace dfd::auth_common {
namespace {

bool is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint from_unix(std::int64_t s) {
  return TimePoint(std::chrono::seconds(s));
}

std::int64_t expiry_after(TimePoint now, std::chrono::seconds ttl) {
  auto t = now + ttl;
  return std::chrono::ceil<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t tombstone_seconds(std::chrono::seconds token_ttl) {
  return std::max<std::int64_t>(kTombstoneMinS, 2 * token_ttl.count());
}

bool well_formed_token(std::string_view t) {
  if (t.size() < 22 || t.size() > 342) return false;
  return std::all_of(t.begin(), t.end(), is_b64url);
}

bool well_formed_hash(std::string_view h) {
  if (h.size() != 64) return false;
  return std::all_of(h.begin(), h.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool plausible_email(std::string_view e) {
  if (e.empty() || e.size() > 254) return false;
  auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= e.size()) return false;
  if (e.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : e) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '<' || c == '>' || c == ',' || c == ';' ||
        c == '\\') {
      return false;
    }
  }
  auto domain = e.substr(at + 1);
  return domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string::npos;
}

TokenVerdict judge_download_token(std::string_view row_hash, std::string_view hash, bool revoked,
                                  std::int64_t expires_at, std::string_view row_scope,
                                  std::string_view scope, TimePoint now) {
  if (!constant_time_equals(row_hash, hash)) return TokenVerdict::kUnknown;
  if (revoked) return TokenVerdict::kRevoked;
  if (now >= from_unix(expires_at)) return TokenVerdict::kExpired;
  if (row_scope != scope) return TokenVerdict::kWrongScope;
  return TokenVerdict::kValid;
}

Status judge_user_token(std::string_view row_hash, std::string_view hash, std::int64_t expires_at,
                        bool disabled, TimePoint now) {
  if (!constant_time_equals(row_hash, hash)) return Status::Unauthenticated("unknown user token");
  if (now >= from_unix(expires_at)) {
    return Status::Unauthenticated("user token expired; log in again");
  }
  if (disabled) return Status::Unauthenticated("the user is disabled");
  return Status::Ok();
}

Result<std::chrono::seconds> ttl_or(std::string_view who, std::chrono::seconds ttl,
                                    std::chrono::seconds fallback) {
  if (ttl.count() <= 0) ttl = fallback;
  if (ttl > kMaxTtl) {
    return Status::InvalidArgument(std::string(who) + ": token ttl longer than 10 years");
  }
  return ttl;
}

Result<NewToken> new_download_token(std::string_view who, std::string_view scope,
                                    std::int64_t user_id, std::chrono::seconds ttl,
                                    std::chrono::seconds fallback, TimePoint now) {
  if (scope.empty()) return Status::InvalidArgument(std::string(who) + ": empty token scope");
  auto t = ttl_or(who, ttl, fallback);
  if (!t.ok()) return t.status();
  auto token = random_token(kTokenBytes);
  if (!token.ok()) return token.status();
  NewToken n;
  n.record.token_hash = sha256_hex(*token);
  n.record.scope = std::string(scope);
  n.record.user_id = user_id;
  n.record.expires_at = from_unix(expiry_after(now, *t));
  n.token = std::move(token.value());
  return n;
}

Status check_records(std::string_view who, const DownloadTokenRecord* records, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!well_formed_hash(records[i].token_hash)) {
      return Status::InvalidArgument(std::string(who) +
                                     ": token_hash is not a lower-case SHA-256 hex");
    }
    if (records[i].scope.empty()) {
      return Status::InvalidArgument(std::string(who) + ": empty token scope");
    }
  }
  return Status::Ok();
}

Status check_new_password(std::string_view who, std::string_view password) {
  if (password.empty()) return Status::InvalidArgument(std::string(who) + ": empty password");
  return Status::Ok();
}

UserPage user_page(std::size_t limit, std::size_t offset) {
  constexpr auto kMax = static_cast<std::size_t>(INT64_MAX);
  return UserPage{static_cast<std::int64_t>(std::min(limit, kMax)),
                  static_cast<std::int64_t>(std::min(offset, kMax))};
}

Result<std::string> check_new_user(std::string_view who, std::string_view email,
                                   std::string_view password, std::string_view role) {
  if (!plausible_email(email)) {
    return Status::InvalidArgument(std::string(who) + ": not an e-mail address: '" +
                                   std::string(email.substr(0, 64)) + "'");
  }
  DFD_RETURN_IF_ERROR(check_new_password(who, password));
  std::string r = role.empty() ? "user" : std::string(role);
  if (r != "admin" && r != "user") {
    return Status::InvalidArgument(std::string(who) + ": role must be 'admin' or 'user', not '" +
                                   r.substr(0, 32) + "'");
  }
  return r;
}

}  // namespace dfd::auth_common
