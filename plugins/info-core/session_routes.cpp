// info-core: POST /v1/auth/login and POST /v1/auth/logout (docs/api.md).
#include "api_json.hpp"
#include "info_server.hpp"

namespace dfd::info {

namespace {
using json = nlohmann::json;
}  // namespace

// A reservation that could not be taken back stays a failure until it leaves the window.
void InfoServer::take_back(const Status& st) {
  if (!st.ok()) log_.warn("login throttle: " + st.to_string());
}

// The attempt is reserved before the password is checked: parallel guesses cannot outrun the
// limit (login_limiter.hpp). A wrong password keeps its reservation (a failure); a right one, a
// disabled account and a store error take it back.
InfoServer::PasswordCheck InfoServer::throttled_password_check(const std::string& account,
                                                               const std::string& address,
                                                               const std::string& email,
                                                               const std::string& password) {
  PasswordCheck out;
  auto reserved = limiter_->reserve(account, address);
  if (!reserved.ok()) {
    out.outcome = PasswordCheck::kError;
    out.error = reserved.status();
    out.throttle_down = true;
    return out;
  }
  const LoginThrottle::Attempt& attempt = *reserved;
  if (attempt.retry_after > 0) {
    out.outcome = PasswordCheck::kThrottled;
    out.retry_after = attempt.retry_after;
    return out;
  }
  auto user = users_->check_password(email, password);
  if (user.ok()) {
    take_back(limiter_->succeeded(attempt));
    out.outcome = PasswordCheck::kRight;
    out.user = std::move(user.value());
    return out;
  }
  const Code c = user.status().code();
  if (c == Code::kUnauthenticated || c == Code::kNotFound) {
    out.outcome = PasswordCheck::kWrong;  // the reservation stays: it was a failure
    return out;
  }
  take_back(limiter_->cancelled(attempt));
  out.outcome = c == Code::kPermissionDenied ? PasswordCheck::kDisabled : PasswordCheck::kError;
  out.error = user.status();
  return out;
}

void InfoServer::answer_check_error(const PasswordCheck& check, HttpResponse& r) {
  log_.error((check.throttle_down ? "login throttle: " : "check_password: ") +
             check.error.to_string());
  if (check.throttle_down) {
    set_json_error(r, 503, "unavailable", "logins cannot be checked right now; retry shortly");
    r.headers.emplace_back("Retry-After", "1");
  } else {
    set_error(r, check.error);
  }
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
  PasswordCheck check = throttled_password_check(account, address, *email, *password);
  switch (check.outcome) {
    case PasswordCheck::kRight:
      break;
    case PasswordCheck::kThrottled:
      logins_["rate_limited"]->add();
      audit("login_throttled",
            json{{"account", account}, {"address", address}, {"retry_after_s", check.retry_after}});
      rate_limited(r, "too many failed logins", check.retry_after);
      return;
    case PasswordCheck::kDisabled:  // the right password of a disabled account
      logins_["disabled"]->add();
      audit("login_failed",
            json{{"account", account}, {"address", address}, {"reason", "disabled"}});
      set_json_error(r, 403, "permission_denied", "this account is disabled");
      return;
    case PasswordCheck::kWrong:
      logins_["failed"]->add();
      audit("login_failed",
            json{{"account", account}, {"address", address}, {"reason", "wrong_credentials"}});
      log_.info("failed login from " + (address.empty() ? std::string("?") : address));
      unauthorized(r, "invalid email or password");
      return;
    case PasswordCheck::kError:
      answer_check_error(check, r);
      return;
  }
  const std::optional<User>& user = check.user;
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
