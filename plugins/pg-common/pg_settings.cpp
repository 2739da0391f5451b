#include "pg_settings.hpp"

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include <cstdlib>
#include <memory>

#include "dfd/private_file.hpp"

namespace dfd::pg {
namespace {

using Options = std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)>;

Options parse(const std::string& dsn) {
  char* err = nullptr;
  Options o(PQconninfoParse(dsn.c_str(), &err), &PQconninfoFree);
  PQfreemem(err);  // may quote part of the string: never shown
  return o;
}

Result<int> int_in(const Config& cfg, std::string_view key, int fallback, int lo, int hi) {
  auto v = cfg.int_or(key, fallback);
  if (!v.ok()) return v.status();
  if (*v < lo || *v > hi) {
    return cfg.error(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return static_cast<int>(*v);
}

}  // namespace

Settings::~Settings() {
  if (!password.empty()) OPENSSL_cleanse(password.data(), password.size());
}

Status check_dsn(const std::string& dsn) {
  if (dsn.empty()) return Status::InvalidArgument("must not be empty");
  Options o = parse(dsn);
  if (!o) {
    return Status::InvalidArgument(
        "not a libpq connection string (postgresql://USER@HOST:PORT/DB or key=value pairs)");
  }
  for (PQconninfoOption* p = o.get(); p->keyword; ++p) {
    if (std::string_view(p->keyword) == "password" && p->val && *p->val) {
      return Status::InvalidArgument(
          "holds a password; put it in password_file (mode 0600) or env DFD_PG_PASSWORD");
    }
  }
  return Status::Ok();
}

std::string describe_dsn(const std::string& dsn) {
  Options o = parse(dsn);
  if (!o) return "";
  std::string host, port, db, user;
  for (PQconninfoOption* p = o.get(); p->keyword; ++p) {
    std::string_view k(p->keyword);
    std::string v = p->val ? p->val : "";
    if (k == "host" || (k == "hostaddr" && host.empty())) host = v;
    if (k == "port") port = v;
    if (k == "dbname") db = v;
    if (k == "user") user = v;
  }
  std::string d = host.empty() ? "(default host)" : host;
  if (!port.empty()) d += ":" + port;
  d += "/" + (db.empty() ? std::string("(default db)") : db);
  if (!user.empty()) d += " (user " + user + ")";
  return d;
}

Result<Settings> parse_settings(const Config& cfg) {
  Settings s;
  if (!cfg.has("dsn")) {
    return cfg.error("dsn", "required (libpq URI, e.g. postgresql://dfd@127.0.0.1:5432/dfd)");
  }
  auto dsn = cfg.get_string("dsn");
  if (!dsn.ok()) return dsn.status();
  Status st = check_dsn(*dsn);
  if (!st.ok()) return cfg.error("dsn", st.message());
  s.dsn = std::move(dsn.value());

  if (cfg.has("password_file")) {
    auto path = cfg.get_string("password_file");
    if (!path.ok()) return path.status();
    auto bytes = read_private_file(*path);
    if (!bytes.ok()) return cfg.error("password_file", bytes.status().message());
    std::string& b = bytes.value();
    auto end = b.find_first_of("\r\n");
    s.password = b.substr(0, end);
    OPENSSL_cleanse(b.data(), b.size());
    if (s.password.empty()) return cfg.error("password_file", "the first line is empty");
  } else if (const char* env = std::getenv("DFD_PG_PASSWORD"); env && *env) {
    s.password = env;
  }

  auto pool = int_in(cfg, "pool_size", 8, 1, 256);
  if (!pool.ok()) return pool.status();
  auto connect = int_in(cfg, "connect_timeout_ms", 5000, 100, 600000);
  if (!connect.ok()) return connect.status();
  auto statement = int_in(cfg, "statement_timeout_ms", 5000, 1, 3600000);
  if (!statement.ok()) return statement.status();
  s.pool_size = *pool;
  s.connect_timeout_ms = *connect;
  s.statement_timeout_ms = *statement;
  return s;
}

}  // namespace dfd::pg
