// The user's login: $XDG_CONFIG_HOME/dfd/credentials (default ~/.config/dfd/credentials), JSON
// {server, token, expires_at, email}; directory 0700, file 0600, written atomically.
#pragma once

#include <optional>
#include <string>

namespace dfd::client {

struct Credentials {
  std::string server;
  std::string token;
  std::string expires_at;
  std::string email;
};

std::string credentials_path();  // throws CliError when neither XDG_CONFIG_HOME nor HOME is set
std::optional<Credentials> load_credentials();  // nullopt when absent; CliError when unreadable
void save_credentials(const Credentials& c);    // CliError(kLocalIo) on failure
bool remove_credentials();                      // true if a file was removed

}  // namespace dfd::client
