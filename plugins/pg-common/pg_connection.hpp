// dfd_pg — one libpq connection with its prepared statements.
//
// A Statement is prepared on a connection the first time it runs there (by its name, which must
// be unique among the statements run on one pool, and stable: the SQL of a name never changes),
// then executed with text parameters. A Connection is used by one thread at a time: it is leased
// from a Pool (pg_pool.hpp), never shared.
//
// Errors (Status):
//   kUnavailable        the connection is lost (server restarted or killed, network, admin
//                       shutdown); lost() is then true and the Pool drops the connection
//   kAlreadyExists      a unique constraint refused the row (SQLSTATE 23505)
//   kDeadlineExceeded   statement_timeout or lock timeout (57014, 55P03)
//   kIoError            any other server error (message: the server's primary message only,
//                       never its DETAIL, which can quote row values)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "dfd/status.hpp"
#include "pg_rows.hpp"
#include "pg_settings.hpp"

typedef struct pg_conn PGconn;

namespace dfd::pg {

struct Statement {
  const char* name;  // unique per pool; e.g. "auth_select_user"
  const char* sql;   // parameters $1..$n, passed as text
};

// A parameter in text form; nullopt is SQL NULL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;
inline Param param(std::int64_t v) {
  return std::to_string(v);
}
inline Param param(std::string_view v) {
  return std::string(v);
}

class Connection {
 public:
  // Opens a connection with `s` (connect_timeout, statement_timeout, keepalives); `who` prefixes
  // errors ("auth-postgres"). kUnavailable when the server cannot be reached or refuses.
  static Result<std::unique_ptr<Connection>> open(const Settings& s, const std::string& who);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Prepares `st` here once, then executes it with `params`.
  Result<Rows> run(const Statement& st, const Params& params = {});
  // Runs `sql` with the simple query protocol (several statements allowed, no parameters):
  // schema changes, BEGIN/COMMIT.
  Result<Rows> exec(const std::string& sql);

  // True once the connection is known to be lost; it is not used again.
  bool lost() const { return lost_; }
  // Reads what the server sent while the connection was idle (never blocks); false when that
  // shows the connection is gone (the server closed it: restart, kill, pg_terminate_backend).
  bool still_open();
  // True when no transaction is open (the connection can go back to the pool).
  bool idle() const;
  // The server process serving this connection (pg_backend_pid).
  int backend_pid() const;
  std::chrono::steady_clock::time_point opened() const { return opened_; }

 private:
  Connection(PGconn* c, std::string who) : c_(c), who_(std::move(who)) {}
  Status failure(const PGresult* r, std::string_view what);
  Result<Rows> finish(PGresult* r, std::string_view what);

  PGconn* c_;
  std::string who_;
  std::unordered_set<std::string> prepared_;
  bool lost_ = false;
  std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
};

}  // namespace dfd::pg
