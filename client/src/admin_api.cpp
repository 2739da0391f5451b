#include "admin_api.hpp"

namespace dfd::client {

namespace {
constexpr std::size_t kMaxListedUsers = 100000;

std::string str_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

RevokedCount revoked_of(const nlohmann::json& j) {
  auto it = j.find("download_tokens_revoked");
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

std::string users_path(std::int64_t id, const char* action) {
  return "/v1/users/" + std::to_string(id) + "/" + action;
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
}  // namespace

UserInfo parse_user(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer() || !j.contains("email") ||
      !j["email"].is_string())
    throw CliError(exit_code::kServer, "the info server sent a user without id or e-mail");
  UserInfo u;
  u.id = j["id"].get<std::int64_t>();
  u.email = j["email"].get<std::string>();
  u.name = str_field(j, "name");
  u.role = str_field(j, "role");
  u.disabled = j.contains("disabled") && j["disabled"].is_boolean() && j["disabled"].get<bool>();
  return u;
}

UserInfo AdminApi::me() {
  return parse_user(api_.request("GET", "/v1/users/me", nullptr, "cannot read your account"));
}

std::vector<UserInfo> AdminApi::list_users() {
  std::vector<UserInfo> all;
  api_.get_pages("/v1/users", "users", kMaxListedUsers, [&](const nlohmann::json& j) {
    if (!j.contains("users") || !j["users"].is_array())
      throw CliError(exit_code::kServer, "cannot list users: the info server sent no user list");
    for (const auto& u : j["users"]) all.push_back(parse_user(u));
    return j["users"].size();
  });
  return all;
}

UserInfo AdminApi::add_user(const std::string& email, const std::string& name,
                            const std::string& role, const std::string& password) {
  nlohmann::json body{{"email", email}, {"name", name}, {"role", role}, {"password", password}};
  return parse_user(api_.request("POST", "/v1/users", &body, "cannot add " + email));
}

UserChanged AdminApi::set_disabled(std::int64_t id, bool disabled) {
  nlohmann::json body = nlohmann::json::object();
  auto j = api_.request(
      "POST", users_path(id, disabled ? "disable" : "enable"), &body,
      std::string("cannot ") + (disabled ? "disable" : "enable") + " user " + std::to_string(id));
  return UserChanged{parse_user(j), revoked_of(j)};
}

RevokedCount AdminApi::revoke_tokens(std::int64_t id) {
  nlohmann::json body = nlohmann::json::object();
  return revoked_of(api_.request("POST", users_path(id, "revoke-tokens"), &body,
                                 "cannot revoke the tokens of user " + std::to_string(id)));
}

PasswordChanged AdminApi::set_password(std::int64_t id, const std::string& password,
                                       const std::string& current) {
  nlohmann::json body{{"password", password}};
  if (!current.empty()) body["current_password"] = current;
  auto j = api_.request("POST", users_path(id, "password"), &body,
                        "cannot change the password of user " + std::to_string(id));
  PasswordChanged out;
  out.user = parse_user(j.contains("user") ? j["user"] : nlohmann::json());
  out.token = str_field(j, "token");
  out.expires_at = str_field(j, "expires_at");
  return out;
}

std::int64_t AdminApi::resolve(const std::string& who) {
  if (all_digits(who)) {
    std::int64_t id = std::stoll(who);
    if (id > 0) return id;
  }
  if (who.find('@') == std::string::npos)
    throw CliError(exit_code::kUsage, "'" + who + "' is neither an e-mail nor a user id");
  const std::string wanted = lower(who);
  for (const auto& u : list_users())
    if (lower(u.email) == wanted) return u.id;
  throw CliError(exit_code::kNotFound, "no user with e-mail " + who);
}

}  // namespace dfd::client
