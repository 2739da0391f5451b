// A private PostgreSQL 15 for tests (scripts/postgres), stopped by PID when it goes away.
//
//   auto& pg = dfd::test::shared_postgres();     // one per test binary, started on first use,
//   ASSERT_TRUE(pg.ok()) << pg.error();          // stopped at exit
//   std::string dsn = pg.create_database("t1");  // a fresh database per test keeps tests apart
//   auto cfg = pg.plugin_config(dsn);            // {dsn, password_file} for a dfd_pg plugin
//
// A test that kills or restarts the server makes its own PostgresInstance instead, so it does
// not disturb the others. Not thread-safe: call from the test's main thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include "fake_host.hpp"
#include "harness.hpp"

namespace dfd::test {

class PostgresInstance {
 public:
  // Starts scripts/postgres in a fresh TempDir (`tls`: with a private CA, DSN verify-full).
  // Unless `durable`, fsync is switched off (ALTER SYSTEM): test databases come and go fast and
  // the shutdown checkpoint has nothing to flush. Measure rates on a durable instance.
  explicit PostgresInstance(bool tls = false, bool durable = false);
  ~PostgresInstance();  // scripts/postgres stop (by PID); SIGKILL if that failed
  PostgresInstance(const PostgresInstance&) = delete;
  PostgresInstance& operator=(const PostgresInstance&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // From DIR/postgres.env.
  const std::string& dsn() const { return env_.at("DFD_PG_DSN"); }
  const std::string& password_file() const { return env_.at("DFD_PG_PASSWORD_FILE"); }
  std::string password() const;
  int port() const;
  pid_t pid() const;  // the postmaster
  const std::string& dir() const { return dir_.path(); }

  // The DSN of database `name` on this server (same user, port and TLS options).
  std::string dsn_for(const std::string& name) const;
  // Drops and creates database `name` owned by dfd; returns its DSN ("" on failure: ADD_FAILURE).
  std::string create_database(const std::string& name);
  // The two keys a dfd_pg plugin needs for `dsn` (default: the dfd database).
  std::map<std::string, ConfigValue> plugin_config(const std::string& dsn = "") const;

  // psql as the superuser on database `db` (default dfd); -At output.
  RunResult psql(const std::string& sql, const std::string& db = "dfd") const;
  // Fast shutdown (by PID) and start again on the same port and data. True on success.
  bool restart();
  // SIGKILL to the postmaster (a crash); its backends exit on their own. restart() recovers.
  void kill();
  bool running() const;

 private:
  bool load_env();
  TempDir dir_;
  std::map<std::string, std::string> env_;
  std::string error_;
};

// The one server of this test binary (started on first call, stopped at exit).
PostgresInstance& shared_postgres();

}  // namespace dfd::test
