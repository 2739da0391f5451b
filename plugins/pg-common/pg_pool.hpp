// dfd_pg — a bounded pool of PostgreSQL connections.
//
// lease() hands one connection to one caller: an idle one (checked without a round trip: a
// connection the server closed while idle is dropped and replaced), or a new one while fewer than
// pool_size are open; when all are busy it waits up to connect_timeout_ms for one to come back
// (kResourceExhausted after that). A Lease returns its connection when it goes out of scope;
// a lost connection, or one left inside a transaction, is closed instead.
//
// run() and transaction() add the retry rule: when the connection is lost during the call and the
// caller marked the work Retry::kSafe (a read, or a write that is idempotent as a whole), it runs
// once more on a fresh connection; with Retry::kNo the kUnavailable error is returned, because
// the server may or may not have applied it.
//
// Thread-safety: every method may be called from any thread. The Pool must outlive its Leases.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pg_connection.hpp"
#include "pg_settings.hpp"

namespace dfd::pg {

enum class Retry { kNo, kSafe };

class Pool {
 public:
  // A pool for `s`; `who` prefixes every error ("auth-postgres"). Opens one connection at once,
  // so that a wrong DSN, password or TLS setting is reported at start (kUnavailable).
  static Result<std::unique_ptr<Pool>> open(Settings s, std::string who);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *c_; }
    Connection* operator->() const { return c_.get(); }
    // Closes the connection instead of returning it (e.g. after changing session settings).
    void discard();

   private:
    Pool* pool_;
    std::unique_ptr<Connection> c_;
  };

  Result<Lease> lease();

  // One statement on a leased connection, retried once on a fresh one when the connection was
  // lost and `retry` is kSafe.
  Result<Rows> run(const Statement& st, const Params& params, Retry retry);

  // BEGIN; body(connection); COMMIT — ROLLBACK when body returns an error. Retried as a whole
  // (once, on a fresh connection) when the connection was lost and `retry` is kSafe.
  Status transaction(Retry retry, const std::function<Status(Connection&)>& body);

  const Settings& settings() const { return settings_; }
  const std::string& who() const { return who_; }
  // "host:port/db (user U)" — for logs; holds no password.
  std::string target() const { return describe_dsn(settings_.dsn); }

  struct Stats {
    int open = 0;              // connections open (idle + leased)
    int idle = 0;              // connections waiting in the pool
    std::int64_t opened = 0;   // connections opened since the pool was made
    std::int64_t lost = 0;     // connections dropped because they were lost
    std::int64_t retries = 0;  // calls run a second time after a lost connection
    std::int64_t lease_timeouts = 0;
  };
  Stats stats() const;

 private:
  Pool(Settings s, std::string who) : settings_(std::move(s)), who_(std::move(who)) {}
  void give_back(std::unique_ptr<Connection> c);
  template <typename Fn>
  auto with_retry(Retry retry, Fn&& fn) -> decltype(fn(std::declval<Connection&>()));

  Settings settings_;
  std::string who_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // guarded by mu_
  Stats stats_;                                    // guarded by mu_ (open/idle filled on read)
};

}  // namespace dfd::pg
