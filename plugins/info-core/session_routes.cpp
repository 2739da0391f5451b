// info-core: POST /v1/auth/login and POST /v1/auth/logout (docs/api.md).
#include "api_json.hpp"
#include "info_server.hpp"

namespace dfd::info {

namespace {
using json = nlohmann::json;
// User tokens: 0 asks the auth plugin for its own configured lifetime (auth-sqlite's
// user_token_ttl_s).
constexpr std::chrono::seconds kUserTokenTtl{0};
constexpr std::size_t kMaxField = 1024;
}  // namespace

// A reservation that could not be taken back stays a failure until it leaves the window.
void InfoServer::take_back(const Status& st) {
  if (!st.ok()) log_.warn("login throttle: " + st.to_string());
}

void InfoServer::login(const HttpRequest& q, HttpResponse& r) {
  json j = json::parse(q.body, nullptr, false);
  std::optional<std::string> email, password;
  if (j.is_object()) {
    email = string_field(j, "email");
    password = string_field(j, "password");
  }
  if (!email || !password || email->empty() || password->empty() || email->size() > kMaxField ||
      password->size() > kMaxField) {
    logins_["invalid"]->add();
    set_json_error(r, 400, "invalid_argument",
                   "the body must be a JSON object with non-empty strings 'email' and 'password'");
    return;
  }
  const std::string account = lower(*email);
  const std::string address = client_of(q);
  // Reserve the attempt before the password is checked: parallel guesses cannot outrun the
  // limit (login_limiter.hpp).
  auto reserved = limiter_->reserve(account, address);
  if (!reserved.ok()) {
    log_.error("login throttle: " + reserved.status().to_string());
    set_json_error(r, 503, "unavailable", "logins cannot be checked right now; retry shortly");
    r.headers.emplace_back("Retry-After", "1");
    return;
  }
  const LoginThrottle::Attempt& attempt = *reserved;
  if (attempt.retry_after > 0) {
    logins_["rate_limited"]->add();
    audit("login_throttled",
          json{{"account", account}, {"address", address}, {"retry_after_s", attempt.retry_after}});
    rate_limited(r, "too many failed logins", attempt.retry_after);
    return;
  }
  auto user = users_->check_password(*email, *password);
  if (!user.ok()) {
    Code c = user.status().code();
    if (c == Code::kPermissionDenied) {  // the right password of a disabled account
      take_back(limiter_->cancelled(attempt));
      logins_["disabled"]->add();
      audit("login_failed",
            json{{"account", account}, {"address", address}, {"reason", "disabled"}});
      set_json_error(r, 403, "permission_denied", "this account is disabled");
      return;
    }
    if (c == Code::kUnauthenticated || c == Code::kNotFound) {
      logins_["failed"]->add();  // the reservation stays: it was a failure
      audit("login_failed",
            json{{"account", account}, {"address", address}, {"reason", "wrong_credentials"}});
      log_.info("failed login from " + (address.empty() ? std::string("?") : address));
      unauthorized(r, "invalid email or password");
      return;
    }
    take_back(limiter_->cancelled(attempt));
    log_.error("check_password: " + user.status().to_string());
    set_error(r, user.status());
    return;
  }
  take_back(limiter_->succeeded(attempt));
  auto token = users_->issue_user_token(user->id, kUserTokenTtl);
  if (!token.ok()) {
    log_.error("issue_user_token: " + token.status().to_string());
    set_error(r, token.status());
    return;
  }
  logins_["ok"]->add();
  audit("login", json{{"user_id", user->id}, {"account", account}, {"address", address}});
  r.status = 200;
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = dump(json{{"token", token->token},
                     {"expires_at", format_rfc3339(token->expires_at)},
                     {"user", user_json(*user)}});
}

// Logout ends this session and revokes every download token the user holds (on every file
// server, through token.revoked), so a token copied from a manifest stops working too. The
// download tokens go first: if that fails the user token stays valid and a retry can finish.
void InfoServer::logout(const HttpRequest& q, HttpResponse& r) {
  auto user = authenticate(q, r);
  if (!user) return;
  json revoked;
  if (!revoke_or_answer(user->id, r, &revoked)) return;
  Status st = users_->revoke_user_token(q.bearer());
  if (!st.ok()) {
    log_.error("revoke_user_token: " + st.to_string());
    set_error(r, st);
    return;
  }
  audit(
      "logout",
      json{{"user_id", user->id}, {"download_tokens_revoked", revoked}, {"address", client_of(q)}});
  r.status = 204;
  r.body.clear();
}

}  // namespace dfd::info
