// info-postgres: the login throttle with its failures in PostgreSQL (info_login_failures), so a
// failed login counted on one information server counts on every server of the database. The
// rule is info-core's (login_limiter.hpp, login_wait(): the same limits, window and backoffs as
// one server's memory throttle, docs/api.md "Login throttling").
//
// reserve() is one transaction: it takes a transaction-scoped advisory lock per key (pair, then
// address, then account: one order everywhere, so no deadlock), reads each key's failures inside
// the window, and either refuses or inserts one row per key under a fresh ticket. Parallel
// guesses on any number of servers therefore cannot outrun the limit. succeeded() deletes the
// pair's and the account's rows and this attempt's address row; cancelled() deletes the attempt's
// rows (by ticket). purge() deletes rows that left the window (InfoStores::maintain); reads never
// count them anyway.
//
// Retries: a connection lost during reserve() runs it once more; if the first COMMIT had landed,
// the attempt counts twice (the safe side for a throttle). Times are the host clock's Unix ms.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "login_throttle.hpp"
#include "pg_pool.hpp"

namespace dfd::info_postgres {

class PgLoginThrottle final : public info::LoginThrottle {
 public:
  PgLoginThrottle(std::shared_ptr<pg::Pool> pool, info::LoginLimiter::Limits limits,
                  const Clock& clock);

  Result<Attempt> reserve(const std::string& account, const std::string& address) noexcept override;
  Status succeeded(const Attempt& a) noexcept override;
  Status cancelled(const Attempt& a) noexcept override;
  // Deletes the failures that left the window by `now_ms`.
  Status purge(std::int64_t now_ms) noexcept;

 private:
  std::int64_t now_ms() const;

  std::shared_ptr<pg::Pool> pool_;
  const info::LoginLimiter::Limits limits_;
  const Clock& clock_;
};

}  // namespace dfd::info_postgres
