// info-core: POST /v1/users/{id}/password (docs/api.md): an admin sets any user's password; a
// user changes their own with the current one (checked under the login throttle). Either way the
// user's sessions end (Auth::set_password, ABI minor 2); a user changing their own password gets
// a fresh user token in the answer, so that session goes on.
#include "api_json.hpp"
#include "info_server.hpp"

namespace dfd::info {

namespace {
using json = nlohmann::json;
}  // namespace

bool InfoServer::check_current_password(const HttpRequest& q, HttpResponse& r, const User& caller,
                                        const std::string& current) {
  const std::string account = lower(caller.email);
  const std::string address = client_of(q);
  PasswordCheck check = throttled_password_check(account, address, caller.email, current);
  switch (check.outcome) {
    case PasswordCheck::kRight:
      if (check.user && check.user->id == caller.id) return true;
      // The e-mail now names another account (cannot happen with unique e-mails): refuse.
      log_.error("password change: the current password check found user " +
                 std::to_string(check.user ? check.user->id : 0) + ", not " +
                 std::to_string(caller.id));
      set_json_error(r, 500, "internal", "internal error");
      return false;
    case PasswordCheck::kThrottled:
      audit("login_throttled",
            json{{"account", account}, {"address", address}, {"retry_after_s", check.retry_after}});
      rate_limited(r, "too many wrong passwords", check.retry_after);
      return false;
    case PasswordCheck::kDisabled:
      set_json_error(r, 403, "permission_denied", "this account is disabled");
      return false;
    case PasswordCheck::kWrong:
      audit("password_change_failed", json{{"user_id", caller.id},
                                           {"account", account},
                                           {"address", address},
                                           {"reason", "wrong_current_password"}});
      set_json_error(r, 403, "permission_denied", "the current password is wrong");
      return false;
    case PasswordCheck::kError:
      answer_check_error(check, r);
      return false;
  }
  return false;
}

void InfoServer::change_password(const HttpRequest& q, HttpResponse& r) {
  auto caller = authenticate(q, r);
  if (!caller) return;
  auto id = id_param(q, "id");
  if (!id) {
    set_json_error(r, 400, "invalid_argument", "the user id must be a positive integer");
    return;
  }
  const bool self = *id == caller->id;
  if (!self && caller->role != "admin") {
    set_json_error(r, 403, "permission_denied", "only an admin may change another user's password");
    return;
  }
  if (!users_list_) return not_supported_v2(r);
  json j = json::parse(q.body, nullptr, false);
  if (!j.is_object()) {
    set_json_error(r, 400, "invalid_argument", "the body must be a JSON object");
    return;
  }
  auto password = string_field(j, "password");
  if (!new_password_ok(password, r)) return;
  if (self) {
    // Also for an admin: a session left open somewhere must not be enough to take the account.
    auto current = string_field(j, "current_password");
    if (!current || current->empty() || current->size() > kMaxField) {
      set_json_error(r, 400, "invalid_argument",
                     "changing your own password needs 'current_password' (a non-empty string)");
      return;
    }
    if (!check_current_password(q, r, *caller, *current)) return;
  }
  auto user = self ? Result<User>(*caller) : users_->find_user_by_id(*id);
  Status st = user.ok() ? users_->set_password(*id, *password) : user.status();
  if (!st.ok()) {
    switch (st.code()) {
      case Code::kNotFound:
        set_json_error(r, 404, "not_found", "no user with id " + std::to_string(*id));
        return;
      case Code::kNotSupported:
        return not_supported_v2(r);
      case Code::kInvalidArgument:
        set_error(r, st);
        return;
      default:
        log_.error("set_password: " + st.to_string());
        set_error(r, st);
        return;
    }
  }
  log_.info("user " + std::to_string(caller->id) + " changed the password of user " +
            std::to_string(*id));
  audit("user_password_changed", json{{"by", caller->id},
                                      {"user_id", *id},
                                      {"email", user->email},
                                      {"self", self},
                                      {"address", client_of(q)}});
  json body{{"user", user_json(*user)}, {"sessions_ended", true}};
  if (self) {
    // The change ended every session, this one too: hand this one a fresh token.
    auto token = users_->issue_user_token(*id, kUserTokenTtl);
    if (token.ok()) {
      body["token"] = token->token;
      body["expires_at"] = format_rfc3339(token->expires_at);
    } else {
      log_.error("issue_user_token after a password change: " + token.status().to_string());
    }
  }
  r.status = 200;
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = dump(body);
}

}  // namespace dfd::info
