// dfd_pg — the config keys every PostgreSQL plugin takes, parsed in one place.
//
//   dsn                   required: a libpq URI or key=value string
//   (postgresql://dfd@host:5432/dfd,
//                         `?sslmode=verify-full&sslrootcert=CA` for TLS). A password inside it is
//                         refused (config error): it would end up in logs and `ps`.
//   password_file         optional: the password's file (first line), under the private-file rule
//                         of dfd/private_file.hpp (owned by the service user, mode 0600). Without
//                         it: env DFD_PG_PASSWORD, else libpq's own PGPASSWORD / ~/.pgpass.
//   pool_size             connections at most (default 8, 1..256)
//   connect_timeout_ms    to open a connection, and to wait for a free one (default 5000)
//   statement_timeout_ms  server-side limit of one statement (default 5000)
//
// A plugin lists these keys with its own: cfg.allow_only({DFD_PG_CONFIG_KEYS, "token_ttl_s"}).
// Errors name file:line:key (Config::error) and never hold the password.
#pragma once

#include <string>

#include "dfd/host_services.hpp"
#include "dfd/status.hpp"

#define DFD_PG_CONFIG_KEYS \
  "dsn", "password_file", "pool_size", "connect_timeout_ms", "statement_timeout_ms"

namespace dfd::pg {

struct Settings {
  std::string dsn;       // never holds a password
  std::string password;  // empty: libpq finds one itself (PGPASSWORD, .pgpass) or none is needed
  int pool_size = 8;
  int connect_timeout_ms = 5000;
  int statement_timeout_ms = 5000;
  std::string application_name = "dfd";

  Settings() = default;
  Settings(const Settings&) = default;
  Settings& operator=(const Settings&) = default;
  ~Settings();  // wipes the password
};

// Reads and checks the keys above from `cfg` (other keys are the plugin's business).
Result<Settings> parse_settings(const Config& cfg);

// Ok, or kInvalidArgument when `dsn` is not a libpq connection string or holds a password. The
// message never quotes the string.
Status check_dsn(const std::string& dsn);

// "host:port/dbname (user U)" of a DSN, for logs and errors; "" when it does not parse.
std::string describe_dsn(const std::string& dsn);

}  // namespace dfd::pg
