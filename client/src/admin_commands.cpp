#include "admin_commands.hpp"

#include <cstdio>

#include "admin_api.hpp"
#include "cli_common.hpp"
#include "credentials.hpp"
#include "password_input.hpp"
#include "text_table.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {

// "bob@example.com (id 5)", escaped for the terminal.
std::string who_text(const UserInfo& u) {
  return printable(u.email) + " (id " + std::to_string(u.id) + ")";
}

std::string revoked_text(const RevokedCount& n) {
  if (!n) return "download tokens: not counted (this server cannot list them)";
  return std::to_string(*n) + (*n == 1 ? " download token revoked" : " download tokens revoked");
}

void print_users(const std::vector<UserInfo>& users) {
  std::vector<std::vector<std::string>> rows{{"ID", "EMAIL", "NAME", "ROLE", "STATE"}};
  for (const auto& u : users)
    rows.push_back({std::to_string(u.id), printable(u.email), printable(u.name), printable(u.role),
                    u.disabled ? "disabled" : "active"});
  std::printf("%s", format_table(rows, std::vector<bool>(rows[0].size(), false)).c_str());
}

nlohmann::json user_json(const UserInfo& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.name},
          {"role", u.role},
          {"disabled", u.disabled}};
}

}  // namespace

int cmd_user_add(const GlobalOptions& g, const AdminOptions& o) {
  if (o.email.find('@') == std::string::npos)
    throw CliError(exit_code::kUsage, "'" + o.email + "' is not an e-mail address");
  InfoApi api = logged_in_api(g);
  std::string pw = read_new_password(o.password_stdin);
  UserInfo u = AdminApi(api).add_user(o.email, o.name, o.role, pw);
  std::printf("added %s, role %s\n", who_text(u).c_str(), printable(u.role).c_str());
  return exit_code::kOk;
}

int cmd_user_list(const GlobalOptions& g, const AdminOptions& o) {
  InfoApi api = logged_in_api(g);
  auto users = AdminApi(api).list_users();
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& u : users) arr.push_back(user_json(u));
    std::printf("%s\n", json_text({{"users", arr}, {"total", users.size()}}).c_str());
  } else {
    print_users(users);
  }
  return exit_code::kOk;
}

int cmd_user_set_disabled(const GlobalOptions& g, const AdminOptions& o, bool disabled) {
  InfoApi api = logged_in_api(g);
  AdminApi admin(api);
  const std::int64_t id = admin.resolve(o.user);
  UserChanged done = admin.set_disabled(id, disabled);
  if (disabled) {
    std::printf("disabled %s: every session ended, %s\n", who_text(done.user).c_str(),
                revoked_text(done.revoked).c_str());
  } else {
    std::printf("enabled %s: they can log in again\n", who_text(done.user).c_str());
  }
  return exit_code::kOk;
}

int cmd_user_passwd(const GlobalOptions& g, const AdminOptions& o) {
  auto creds = load_credentials();
  InfoApi api = logged_in_api(g);
  AdminApi admin(api);
  // Yourself: no argument, your own e-mail (no user list needed: a user may not list), or your
  // own id.
  std::optional<UserInfo> self;
  if (o.user.empty() || (creds && lower(o.user) == lower(creds->email))) self = admin.me();
  const std::int64_t id = self ? self->id : admin.resolve(o.user);
  if (!self) {
    UserInfo me = admin.me();
    if (me.id == id) self = me;
  }
  std::string current;
  if (self) {
    current = read_secret("Current password: ", o.password_stdin);
    if (current.empty()) throw CliError(exit_code::kUsage, "empty current password");
  }
  std::string pw = read_new_password(o.password_stdin);
  PasswordChanged done = admin.set_password(id, pw, current);
  if (!self) {
    std::printf("changed the password of %s; their sessions ended\n", who_text(done.user).c_str());
    return exit_code::kOk;
  }
  // Every session ended, this one included: keep the fresh one the server handed back.
  if (creds && !done.token.empty()) {
    creds->token = done.token;
    creds->expires_at = done.expires_at;
    save_credentials(*creds);
    std::printf("changed your password; your other sessions ended\n");
  } else {
    remove_credentials();
    std::printf("changed your password; every session ended: log in again\n");
  }
  return exit_code::kOk;
}

int cmd_revoke(const GlobalOptions& g, const AdminOptions& o) {
  InfoApi api = logged_in_api(g);
  AdminApi admin(api);
  const std::int64_t id = admin.resolve(o.user);
  RevokedCount revoked = admin.revoke_tokens(id);
  const std::string who = o.user.find('@') != std::string::npos
                              ? printable(o.user) + " (id " + std::to_string(id) + ")"
                              : "user " + std::to_string(id);
  std::printf("revoked every session of %s; %s\n", who.c_str(), revoked_text(revoked).c_str());
  return exit_code::kOk;
}

}  // namespace dfd::client
