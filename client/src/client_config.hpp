// The client's config file (issue 13): defaults for the options a user would otherwise type every
// time. $DFD_CONFIG, else $XDG_CONFIG_HOME/dfd/config.toml, else ~/.config/dfd/config.toml (the
// folder of the credentials, credentials.hpp). TOML, top-level keys only:
//
//   server = "https://info-1:9200,https://info-2:9200"   # like --server
//   zone = "zone-a"                                      # get --zone
//   connections = 16                                     # get --connections (1-256)
//   per_server = 4                                       # get --per-server (1-64)
//   limit_rate = "20M"                                   # get --limit-rate (a rate or bytes/s)
//   per_server_rate = "5M"                               # get --per-server-rate
//   timeout = 10                                         # --timeout, seconds
//   cacert = "~/dfd/ca.pem"                              # --cacert
//   cert = "client.pem"                                  # --cert (relative: to this file)
//   key = "client.key"                                   # --key
//   output_dir = "~/Downloads"                           # get -d DIR
//   progress = false                                     # false = get --no-progress
//
// Precedence: command line > environment (DFD_SERVER, DFD_CA_BUNDLE, DFD_CLIENT_CERT,
// DFD_CLIENT_KEY) > this file > the built-in default. Every error names FILE:LINE and the key.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "curl_policy.hpp"

namespace dfd::client {

struct ClientConfig {
  std::string file;  // where it was read from; empty = no config file
  std::optional<std::string> server, zone, cacert, cert, key, output_dir;
  std::optional<std::size_t> connections, per_server;
  std::optional<double> limit_rate, per_server_rate, timeout_s;
  std::optional<bool> progress;
  std::map<std::string, int> lines;  // key -> its line in `file`, for later messages
};

// $DFD_CONFIG, else $XDG_CONFIG_HOME/dfd/config.toml, else $HOME/.config/dfd/config.toml; "" when
// none of those variables is set.
std::string client_config_path();

// Parses `text` (the contents of `file`). Paths (cacert, cert, key, output_dir) starting with "~/"
// are taken from $HOME, relative ones from the folder of `file`. CliError(kUsage) with
// "FILE:LINE: key 'K': ..." for a syntax error, an unknown key, a wrong type or a bad value.
ClientConfig parse_client_config(std::string_view text, const std::string& file);

// Reads client_config_path(). A missing file is no config, unless $DFD_CONFIG named it (then it
// is a usage error, like an unreadable file).
ClientConfig load_client_config();

// Fills what the command line did not give and the environment does not set from `c`: the one
// place that maps config keys onto options. `on_command_line("--zone")` says whether an option
// was given (long names). cert and key go together: --cert or DFD_CLIENT_CERT ignores both keys.
void apply_client_config(const ClientConfig& c,
                         const std::function<bool(std::string_view)>& on_command_line,
                         GlobalOptions& g, GetOptions& go, TlsSettings& tls);

}  // namespace dfd::client
