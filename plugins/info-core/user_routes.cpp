// info-core: the user routes of the info API (docs/api.md, "Users"): add a user, list them,
// disable or enable one, revoke every token of one — admin only — the caller's own user, and the
// revocation of a user's download tokens that logout shares.
#include "api_json.hpp"
#include "dfd/events.hpp"
#include "info_server.hpp"

namespace dfd::info {

namespace {
using json = nlohmann::json;

void not_supported(HttpResponse& r) {
  set_json_error(r, 501, "not_supported",
                 "the auth plugin that stores users cannot disable users or revoke their tokens");
}

// A user of GET /v1/users.
json listed_user_json(const UserEntry& e) {
  json j = user_json(e.user);
  j["disabled"] = e.disabled;
  return j;
}
}  // namespace

Result<std::size_t> InfoServer::revoke_download_tokens_of(std::int64_t user_id) {
  if (!dl_revoke_) return Status::NotSupported("the download auth plugin predates ABI minor 1");
  std::vector<std::string> hashes;
  Status st = dl_auth_->revoke_download_tokens_of(user_id, &hashes);
  if (st.code() == Code::kNotSupported) return st;
  if (!st.ok()) {
    revocation_failures_.add();
    return st;
  }
  // Every file server drops the tokens on token.revoked (persistent, confirmed). Self-verifying
  // tokens (auth-hmac) need the event too: that is how their file servers learn a revocation.
  for (const std::string& h : hashes) {
    Status p =
        broker_->publish(events::kTokenRevoked, events::encode_token_revoked(h), confirm_timeout_);
    if (!p.ok()) {
      revocation_failures_.add();
      return p.with_context("publishing token.revoked");
    }
    revocations_.add();
  }
  audit("download_tokens_revoked", json{{"user_id", user_id}, {"count", hashes.size()}});
  return hashes.size();
}

void InfoServer::add_user(const HttpRequest& q, HttpResponse& r) {
  auto caller = authenticate_admin(q, r);
  if (!caller) return;
  json j = json::parse(q.body, nullptr, false);
  if (!j.is_object()) {
    set_json_error(r, 400, "invalid_argument", "the body must be a JSON object");
    return;
  }
  auto email = string_field(j, "email");
  auto password = string_field(j, "password");
  std::optional<std::string> name = j.contains("name") ? string_field(j, "name") : "";
  std::optional<std::string> role = j.contains("role") ? string_field(j, "role") : "user";
  if (!email || !plausible_email(*email)) {
    set_json_error(r, 400, "invalid_argument", "'email' must be an e-mail address");
    return;
  }
  if (!new_password_ok(password, r)) return;
  if (!name || name->size() > 200) {
    set_json_error(r, 400, "invalid_argument", "'name' must be a string of at most 200 bytes");
    return;
  }
  if (!role || (*role != "admin" && *role != "user")) {
    set_json_error(r, 400, "invalid_argument", "'role' must be \"admin\" or \"user\"");
    return;
  }
  auto user = users_->create_user(*email, *name, *password, *role);
  if (!user.ok()) {
    Code c = user.status().code();
    if (c == Code::kAlreadyExists) {
      set_json_error(r, 409, "already_exists", "a user with this e-mail exists");
    } else if (c == Code::kInvalidArgument) {
      set_error(r, user.status());
    } else {
      log_.error("create_user: " + user.status().to_string());
      set_error(r, user.status());
    }
    return;
  }
  log_.info("admin " + std::to_string(caller->id) + " added user " + std::to_string(user->id) +
            " (" + *role + ")");
  audit("user_created", json{{"by", caller->id},
                             {"user_id", user->id},
                             {"email", user->email},
                             {"role", user->role},
                             {"address", client_of(q)}});
  r.status = 201;
  r.body = dump(user_json(*user));
}

// Admin only; paging like GET /v1/files. Needs ABI minor 2 (list_users, count_users).
void InfoServer::list_users(const HttpRequest& q, HttpResponse& r) {
  if (!authenticate_admin(q, r)) return;
  if (!users_list_) return not_supported_v2(r);
  std::uint64_t limit = 0, offset = 0;
  if (!page_params(q, r, limit, offset)) return;
  auto total = users_->count_users();
  auto users = total.ok() ? users_->list_users(limit, offset) : total.status();
  if (!users.ok()) {
    if (users.status().code() == Code::kNotSupported) return not_supported_v2(r);
    log_.error("list_users: " + users.status().to_string());
    set_error(r, users.status());
    return;
  }
  json list = json::array();
  for (const UserEntry& e : *users) list.push_back(listed_user_json(e));
  r.status = 200;
  r.body = dump(json{{"users", list}, {"total", *total}});
}

// Any logged-in user: who the token belongs to.
void InfoServer::current_user(const HttpRequest& q, HttpResponse& r) {
  auto caller = authenticate(q, r);
  if (!caller) return;
  r.status = 200;
  r.body = dump(user_json(*caller));
}

void InfoServer::not_supported_v2(HttpResponse& r) {
  set_json_error(r, 501, "not_supported",
                 "the auth plugin that stores users cannot list users or change passwords "
                 "(it predates ABI minor 2)");
}

std::optional<InfoServer::AdminCall> InfoServer::admin_call(const HttpRequest& q, HttpResponse& r) {
  auto caller = authenticate_admin(q, r);
  if (!caller) return std::nullopt;
  if (!users_admin_) {
    not_supported(r);
    return std::nullopt;
  }
  auto id = id_param(q, "id");
  if (!id) {
    set_json_error(r, 400, "invalid_argument", "the user id must be a positive integer");
    return std::nullopt;
  }
  return AdminCall{std::move(*caller), *id};
}

bool InfoServer::revoke_or_answer(std::int64_t user_id, HttpResponse& r, json* revoked) {
  *revoked = nullptr;  // null: the download store cannot list a user's tokens
  auto n = revoke_download_tokens_of(user_id);
  if (n.ok()) {
    *revoked = *n;
    return true;
  }
  if (n.status().code() == Code::kNotSupported) return true;
  log_.error("revoking the download tokens of user " + std::to_string(user_id) + ": " +
             n.status().to_string());
  set_json_error(r, 503, "unavailable",
                 "the user's download tokens could not all be revoked; repeat the request");
  r.headers.emplace_back("Retry-After", "1");
  return false;
}

void InfoServer::disable_user(const HttpRequest& q, HttpResponse& r) {
  set_disabled(q, r, true);
}

void InfoServer::enable_user(const HttpRequest& q, HttpResponse& r) {
  set_disabled(q, r, false);
}

// Disabling ends the user's sessions (user tokens) and revokes their download tokens.
void InfoServer::set_disabled(const HttpRequest& q, HttpResponse& r, bool disabled) {
  auto call = admin_call(q, r);
  if (!call) return;
  const std::int64_t id = call->user_id;
  const User& caller = call->caller;
  if (disabled && id == caller.id) {
    set_json_error(r, 400, "invalid_argument", "an admin cannot disable their own account");
    return;
  }
  Status st = users_->set_user_disabled(id, disabled);
  if (st.code() == Code::kNotFound) {
    set_json_error(r, 404, "not_found", "no user with id " + std::to_string(id));
    return;
  }
  if (st.code() == Code::kNotSupported) return not_supported(r);
  if (!st.ok()) {
    log_.error("set_user_disabled: " + st.to_string());
    set_error(r, st);
    return;
  }
  json revoked = nullptr;
  if (disabled && !revoke_or_answer(id, r, &revoked)) return;
  auto user = users_->find_user_by_id(id);
  if (!user.ok()) {
    log_.error("find_user_by_id: " + user.status().to_string());
    set_error(r, user.status());
    return;
  }
  audit(disabled ? "user_disabled" : "user_enabled", json{{"by", caller.id},
                                                          {"user_id", id},
                                                          {"email", user->email},
                                                          {"download_tokens_revoked", revoked},
                                                          {"address", client_of(q)}});
  json body = user_json(*user);
  body["disabled"] = disabled;
  if (disabled) body["download_tokens_revoked"] = revoked;
  r.status = 200;
  r.body = dump(body);
}

void InfoServer::revoke_user_tokens(const HttpRequest& q, HttpResponse& r) {
  auto call = admin_call(q, r);
  if (!call) return;
  const std::int64_t id = call->user_id;
  const User& caller = call->caller;
  auto user = users_->find_user_by_id(id);
  if (!user.ok()) {
    if (user.status().code() == Code::kNotFound) {
      set_json_error(r, 404, "not_found", "no user with id " + std::to_string(id));
    } else {
      log_.error("find_user_by_id: " + user.status().to_string());
      set_error(r, user.status());
    }
    return;
  }
  json revoked;
  if (!revoke_or_answer(id, r, &revoked)) return;
  Status st = users_->revoke_user_tokens(id);
  if (!st.ok()) {
    log_.error("revoke_user_tokens: " + st.to_string());
    set_error(r, st);
    return;
  }
  audit("user_tokens_revoked", json{{"by", caller.id},
                                    {"user_id", id},
                                    {"email", user->email},
                                    {"download_tokens_revoked", revoked},
                                    {"address", client_of(q)}});
  r.status = 200;
  r.body = dump(
      json{{"user_id", id}, {"user_tokens_revoked", true}, {"download_tokens_revoked", revoked}});
}

}  // namespace dfd::info
