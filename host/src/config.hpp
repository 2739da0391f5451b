// The host's TOML config: loading, ${VAR} expansion, validation of the host's own tables, and the
// dfd::Config view of each [[plugin]] table. Schema: docs/contracts.md and docs/host.md.
//
// Every error names the file, the line and the key, e.g.
//   "cfg.toml:12: [server] key 'threads': expected an integer, got a string".
//
// Thread-safety: a loaded HostConfig is immutable; TomlConfig objects are read-only after
// construction and safe to use from any thread.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "dfd/host_services.hpp"
#include "dfd/plugin.hpp"

namespace dfd::host {

// Parsed log level names: trace|debug|info|warn|error|off.
Result<LogLevel> parse_log_level(std::string_view name);

// The [server] table.
struct ServerOptions {
  std::string id;  // required
  std::string zone = "default";
  std::string listen = "127.0.0.1:0";  // control plane; port 0 = any free port (logged)
  int threads = 4;                     // control-plane HTTP threads
  std::string state_dir;               // default: $TMPDIR/dfd-<id> (filled in by the loader)
  int shutdown_grace_ms = 10000;       // SIGINT/SIGTERM: in-flight requests may finish this long
  LogLevel log_level = LogLevel::kInfo;
  std::string public_url;  // optional; see ServerIdentity::public_url
  // Limits of the control-plane listener (docs/host.md "Limits").
  int max_body_bytes = 64 * 1024;         // request body; more → 413 and the connection closed
  int max_head_bytes = 16 * 1024;         // request line + header fields; more → 431
  int header_timeout_ms = 10000;          // a request's head must arrive within this
  int body_timeout_ms = 30000;            // the whole request must arrive within this
  int keepalive_timeout_ms = 60000;       // an idle kept-alive connection is closed after this
  int max_connections = 1024;             // open connections (also capped by RLIMIT_NOFILE / 2)
  int max_connections_per_address = 256;  // per peer address (also capped by total / 2)
  std::string admin_token_file;           // optional: a secret for the detailed /healthz, /metrics
  std::string admin_token;                // its content (filled by the loader; never printed)
  // HTTPS for the control plane (docs/host.md "TLS"). Relative paths are resolved against the
  // config file's directory (like plugin_path); the loader stores absolute paths and has checked
  // the files (tls_files.hpp). Empty tls_cert = plain HTTP.
  std::string tls_cert;       // PEM certificate chain
  std::string tls_key;        // PEM private key: a regular file of the running user, mode 0600
  std::string tls_client_ca;  // optional: mutual TLS, clients need a certificate from this CA
};

// The [events] table: signed broker events (docs/host.md "[events]", docs/security.md).
struct EventsOptions {
  int line = 0;              // of the [events] header; 0 when the table is absent
  std::string signing_key;   // this host's Ed25519 private key (PEM, 0600); "" = not set
  int signing_key_line = 0;  // line of each key (the table's when absent), for messages
  std::string trusted_keys;  // a directory of <sender>.pub files; "" = not set
  int trusted_keys_line = 0;
  int max_age_s = 600;  // accepted clock difference and replay window, seconds
  int max_age_s_line = 0;
  bool allow_unsigned = false;  // no keys with a broker between hosts: refuse to start unless set
  int allow_unsigned_line = 0;
  bool keys_configured() const { return !signing_key.empty() || !trusted_keys.empty(); }
};

// One [[plugin]] table (after ${VAR} expansion).
struct PluginEntry {
  std::string name;
  int line = 0;  // line of the [[plugin]] header
  std::shared_ptr<const toml::table> table;
};

struct HostConfig {
  std::string file;  // as given on the command line (used in messages)
  std::vector<std::string>
      plugin_path;  // absolute; relative entries resolve against the file's dir
  ServerOptions server;
  std::shared_ptr<toml::table> root;     // the whole parsed file (tables below point into it;
                                         // copies of toml nodes lose their source lines)
  const toml::table* content = nullptr;  // the [content] table, when present
  EventsOptions events;
  std::vector<PluginEntry> plugins;  // in file order
};

// Expands ${VAR} and ${VAR:-default} in every string value of `table` (recursively); "$${" is a
// literal "${". An unset (or empty) variable without a default is an error naming file:line:key.
Status expand_env(toml::table& table, const std::string& file);

// Parses `text` as the config file `file` (the name used in messages and to resolve relative
// plugin_path entries).
Result<HostConfig> parse_host_config(std::string_view text, const std::string& file);
// Reads and parses `path`.
Result<HostConfig> load_host_config(const std::string& path);

// "a string", "an integer", ... for messages.
std::string toml_type_name(const toml::node& n);

// dfd::Config over one [[plugin]] table.
class TomlConfig final : public Config {
 public:
  TomlConfig(std::string file, PluginEntry entry);

  std::string source() const override;
  std::vector<std::string> keys() const override;
  bool has(std::string_view key) const noexcept override;
  Result<std::string> get_string(std::string_view key) const noexcept override;
  Result<std::int64_t> get_int(std::string_view key) const noexcept override;
  Result<double> get_double(std::string_view key) const noexcept override;
  Result<bool> get_bool(std::string_view key) const noexcept override;
  Result<std::vector<std::string>> get_string_list(std::string_view key) const noexcept override;
  Status error(std::string_view key, std::string_view what) const override;
  Status allow_only(std::initializer_list<std::string_view> allowed) const override;

 private:
  const toml::node* find(std::string_view key) const noexcept;
  Status missing(std::string_view key) const;
  Status wrong_type(std::string_view key, const char* expected) const;

  std::string file_;
  PluginEntry entry_;
};

}  // namespace dfd::host
