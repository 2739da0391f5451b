#include "pg_connection.hpp"

#include <libpq-fe.h>

#include <memory>

namespace dfd::pg {
namespace {

std::string trimmed(const char* m) {
  std::string s = m ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Connection-level SQLSTATEs: class 08 (connection exception), 57P01..57P03 (admin/crash
// shutdown, cannot connect now).
bool connection_state(std::string_view state) {
  return state.substr(0, 2) == "08" || state == "57P01" || state == "57P02" || state == "57P03";
}

// libpq hands an error that arrives while no query runs (the FATAL a backend sends before it
// closes: restart, pg_terminate_backend) to the notice receiver instead of failing a call; it
// would print it on stderr. Here it marks the connection lost; other notices are dropped.
void on_notice(void* lost, const PGresult* r) {
  const char* sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (sev && (std::string_view(sev) == "FATAL" || std::string_view(sev) == "PANIC")) {
    *static_cast<bool*>(lost) = true;
  }
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::open(const Settings& s, const std::string& who) {
  // libpq counts whole seconds (and at least 2).
  const std::string connect_s = std::to_string((s.connect_timeout_ms + 999) / 1000);
  const std::string options = "-c statement_timeout=" + std::to_string(s.statement_timeout_ms);
  // A peer that vanishes without a FIN (network loss) is noticed by the kernel within this.
  const std::string user_timeout = std::to_string(s.statement_timeout_ms + s.connect_timeout_ms);
  const char* keys[] = {"dbname",
                        "password",
                        "connect_timeout",
                        "options",
                        "application_name",
                        "keepalives",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        nullptr};
  const char* values[] = {s.dsn.c_str(),
                          s.password.empty() ? nullptr : s.password.c_str(),
                          connect_s.c_str(),
                          options.c_str(),
                          s.application_name.c_str(),
                          "1",
                          "10",
                          "3",
                          "3",
                          user_timeout.c_str(),
                          nullptr};
  PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!c) return Status::ResourceExhausted(who + ": out of memory opening a connection");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = who + ": cannot connect to PostgreSQL at " + describe_dsn(s.dsn) + ": " +
                    trimmed(PQerrorMessage(c));
    PQfinish(c);
    return Status::Unavailable(m);
  }
  std::unique_ptr<Connection> conn(new Connection(c, who));
  PQsetNoticeReceiver(c, &on_notice, &conn->lost_);
  return conn;
}

Connection::~Connection() {
  PQfinish(c_);
}

Status Connection::failure(const PGresult* r, std::string_view what) {
  std::string state;
  std::string message;
  if (r) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    state = s ? s : "";
    message = trimmed(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
  }
  if (message.empty()) message = trimmed(PQerrorMessage(c_));
  if (PQstatus(c_) == CONNECTION_BAD || connection_state(state)) lost_ = true;
  std::string m = who_ + ": " + std::string(what) + ": " + message;
  if (lost_) return Status::Unavailable(m + " (connection to PostgreSQL lost)");
  if (state == "23505") return Status::AlreadyExists(m);
  if (state == "57014" || state == "55P03") return Status::DeadlineExceeded(m);
  return Status::IoError(m);
}

Result<Rows> Connection::finish(PGresult* r, std::string_view what) {
  Rows rows(r);  // frees r on every path
  auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return rows;
  return failure(r, what);
}

Result<Rows> Connection::run(const Statement& st, const Params& params) {
  if (lost_) return Status::Unavailable(who_ + ": " + st.name + ": connection to PostgreSQL lost");
  if (prepared_.count(st.name) == 0) {
    auto prepared = finish(PQprepare(c_, st.name, st.sql, 0, nullptr), st.name);
    if (!prepared.ok()) return prepared.status();
    prepared_.insert(st.name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  return finish(PQexecPrepared(c_, st.name, static_cast<int>(values.size()), values.data(), nullptr,
                               nullptr, /*text results*/ 0),
                st.name);
}

Result<Rows> Connection::exec(const std::string& sql) {
  if (lost_) return Status::Unavailable(who_ + ": connection to PostgreSQL lost");
  // A multi-statement string returns the last result; an error stops at the failing statement.
  return finish(PQexec(c_, sql.c_str()), "statement");
}

bool Connection::still_open() {
  // Twice: the first read may stop at the server's last message, the second sees the end of the
  // stream. PQisBusy parses what was read, which hands a FATAL to on_notice.
  for (int i = 0; i < 2 && !lost_; ++i) {
    if (PQconsumeInput(c_) == 0 || PQstatus(c_) == CONNECTION_BAD) lost_ = true;
    (void)PQisBusy(c_);
  }
  return !lost_;
}

bool Connection::idle() const {
  return !lost_ && PQtransactionStatus(c_) == PQTRANS_IDLE;
}

int Connection::backend_pid() const {
  return PQbackendPID(c_);
}

}  // namespace dfd::pg
