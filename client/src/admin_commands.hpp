// `dfd user add|list|disable|enable|passwd` and `dfd revoke` (issue 13): user administration
// over the info API (admin_api.hpp). Each returns the exit status; failures are thrown as
// CliError (main prints "dfd: <message>"): not an admin → kAuth ("only an admin may ..."), no
// such user → kNotFound, throttled → kThrottled, bad input → kUsage. Passwords come from the
// terminal (asked without echo; a new one twice) or from stdin with --password-stdin, and are
// never printed.
#pragma once

#include <string>

#include "commands.hpp"

namespace dfd::client {

struct AdminOptions {
  std::string email;          // user add EMAIL
  std::string name;           // user add --name
  std::string role = "user";  // user add --role user|admin
  std::string user;           // EMAIL or ID (disable, enable, passwd, revoke); "" = yourself
  bool password_stdin = false;
  bool json = false;  // user list --json
};

int cmd_user_add(const GlobalOptions& g, const AdminOptions& o);
int cmd_user_list(const GlobalOptions& g, const AdminOptions& o);
int cmd_user_set_disabled(const GlobalOptions& g, const AdminOptions& o, bool disabled);
// Without o.user (or with your own e-mail/id): your own password, after the current one; with
// --password-stdin two lines, the current password then the new one. The fresh session the
// server hands back replaces the stored login. Otherwise (an admin) the user's password: one new
// password.
int cmd_user_passwd(const GlobalOptions& g, const AdminOptions& o);
int cmd_revoke(const GlobalOptions& g, const AdminOptions& o);

}  // namespace dfd::client
