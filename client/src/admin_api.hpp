// AdminApi: the user routes of the info API (docs/api.md "Users") over an InfoApi — add, list,
// disable, enable, revoke every token, change a password, and who the caller is. Errors are the
// InfoApi's CliErrors ("<context>: <the server's message>"; a non-admin gets kAuth with "only an
// admin may ...", an unknown user kNotFound, a throttled password check kThrottled). Every text
// taken from a reply is as the server sent it: print it through printable().
// One AdminApi per thread (like InfoApi).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api_client.hpp"

namespace dfd::client {

struct UserInfo {
  std::int64_t id = 0;
  std::string email;
  std::string name;
  std::string role;
  bool disabled = false;
};

// The answer of a route that revokes download tokens: their number, or nullopt when the server
// does not know it (self-verifying tokens: docs/api.md).
using RevokedCount = std::optional<std::uint64_t>;

// The answer of disable/enable: the user in its new state, and the download tokens revoked.
struct UserChanged {
  UserInfo user;
  RevokedCount revoked;
};

// The answer of a password change: the user, and for one's own password the fresh user token
// that replaces the ended session ("" otherwise).
struct PasswordChanged {
  UserInfo user;
  std::string token;
  std::string expires_at;
};

class AdminApi {
 public:
  explicit AdminApi(InfoApi& api) : api_(api) {}

  UserInfo me();
  // Every user, following the limit/offset pages (at most 100,000).
  std::vector<UserInfo> list_users();
  UserInfo add_user(const std::string& email, const std::string& name, const std::string& role,
                    const std::string& password);
  // Disabling revokes the user's download tokens too (their count); enabling revokes nothing.
  UserChanged set_disabled(std::int64_t id, bool disabled);
  RevokedCount revoke_tokens(std::int64_t id);
  // `current`: the caller's current password when `id` is the caller's own ("" otherwise).
  PasswordChanged set_password(std::int64_t id, const std::string& password,
                               const std::string& current);

  // "EMAIL" or "ID" → the user's id: digits are an id (not checked here); an e-mail is looked up
  // in list_users(), ignoring case (CliError kNotFound when absent); anything else is kUsage.
  std::int64_t resolve(const std::string& who);

 private:
  InfoApi& api_;
};

// A user object of the API (id, email, name, role, and disabled when present); CliError kServer
// when it is not one.
UserInfo parse_user(const nlohmann::json& j);

}  // namespace dfd::client
