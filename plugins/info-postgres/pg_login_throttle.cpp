#include "pg_login_throttle.hpp"

#include <algorithm>

namespace dfd::info_postgres {

namespace {
// info_login_failures.kind
constexpr int kPair = 0;
constexpr int kAddress = 1;
constexpr int kAccount = 2;
// First half of the advisory lock keys (pg_advisory_xact_lock(int, int)): "dfl" + kind.
constexpr std::int64_t kLockClass = 0x64666c00;

// The three keys' locks in one round trip, in the order of the select list (pair, address,
// account).
const pg::Statement kLock{"info_login_lock",
                          "SELECT pg_advisory_xact_lock($1::int, hashtext($2)), "
                          "pg_advisory_xact_lock($3::int, hashtext($4)), "
                          "pg_advisory_xact_lock($5::int, hashtext($6))"};
const pg::Statement kFailures{
    "info_login_failures",
    "SELECT kind, count(*), min(at_ms), max(at_ms) FROM info_login_failures "
    "WHERE ((kind = 0 AND key = $1) OR (kind = 1 AND key = $2) OR (kind = 2 AND key = $3)) "
    "AND at_ms > $4 GROUP BY kind"};
const pg::Statement kReserve{"info_login_reserve",
                             "INSERT INTO info_login_failures(kind, key, at_ms, ticket) "
                             "SELECT v.kind, v.key, $4::bigint, t.ticket FROM (SELECT "
                             "nextval('info_login_tickets') AS ticket) t, "
                             "(VALUES (0::smallint, $1::text), (1::smallint, $2::text), "
                             "(2::smallint, $3::text)) AS v(kind, key) "
                             "RETURNING ticket"};
const pg::Statement kSucceeded{
    "info_login_succeeded",
    "DELETE FROM info_login_failures WHERE (kind = 0 AND key = $1) OR (kind = 2 AND key = $2) "
    "OR (kind = 1 AND key = $3 AND ticket = $4)"};
const pg::Statement kCancelled{"info_login_cancelled",
                               "DELETE FROM info_login_failures WHERE ticket = $1"};
const pg::Statement kPurge{"info_login_purge", "DELETE FROM info_login_failures WHERE at_ms <= $1"};

std::int64_t window_ms(const info::LoginLimiter::Limits& l) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(l.window).count();
}
}  // namespace

PgLoginThrottle::PgLoginThrottle(std::shared_ptr<pg::Pool> pool, info::LoginLimiter::Limits limits,
                                 const Clock& clock)
    : pool_(std::move(pool)), limits_(limits), clock_(clock) {}

std::int64_t PgLoginThrottle::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

Result<info::LoginThrottle::Attempt> PgLoginThrottle::reserve(const std::string& account,
                                                              const std::string& address) noexcept {
  return guard("login throttle", [&]() -> Result<Attempt> {
    const std::string pair = info::LoginLimiter::pair_key(account, address);
    const std::int64_t now = now_ms();
    const std::int64_t window = window_ms(limits_);
    Attempt a{0, account, address, now, 0};
    Status st = pool_->transaction(pg::Retry::kSafe, [&](pg::Connection& c) -> Status {
      a.retry_after = 0;
      a.ticket = 0;
      auto l = c.run(kLock, {pg::param(kLockClass + kPair), pair, pg::param(kLockClass + kAddress),
                             address, pg::param(kLockClass + kAccount), account});
      if (!l.ok()) return l.status();
      auto r = c.run(kFailures, {pair, address, account, pg::param(now - window)});
      if (!r.ok()) return r.status();
      for (int i = 0; i < r->size(); ++i) {
        const auto kind = r->int64(i, 0);
        const std::int64_t max = kind == kPair      ? limits_.pair_max
                                 : kind == kAddress ? limits_.address_max
                                                    : limits_.account_max;
        a.retry_after = std::max(
            a.retry_after,
            info::login_wait(r->int64(i, 1), std::chrono::milliseconds(now - r->int64(i, 2)),
                             std::chrono::milliseconds(now - r->int64(i, 3)),
                             std::max<std::int64_t>(1, max), kind != kPair, limits_.window));
      }
      if (a.retry_after > 0) return Status::Ok();  // refused: nothing reserved
      auto ins = c.run(kReserve, {pair, address, account, pg::param(now)});
      if (!ins.ok()) return ins.status();
      a.ticket = ins->int64(0, 0);
      return Status::Ok();
    });
    if (!st.ok()) return st.with_context("login throttle");
    return a;
  });
}

Status PgLoginThrottle::succeeded(const Attempt& a) noexcept {
  return guard("login throttle", [&]() -> Status {
    auto r = pool_->run(kSucceeded,
                        {info::LoginLimiter::pair_key(a.account, a.address), a.account, a.address,
                         pg::param(a.ticket)},
                        pg::Retry::kSafe);
    return r.ok() ? Status::Ok() : r.status().with_context("login throttle");
  });
}

Status PgLoginThrottle::cancelled(const Attempt& a) noexcept {
  return guard("login throttle", [&]() -> Status {
    auto r = pool_->run(kCancelled, {pg::param(a.ticket)}, pg::Retry::kSafe);
    return r.ok() ? Status::Ok() : r.status().with_context("login throttle");
  });
}

Status PgLoginThrottle::purge(std::int64_t now_ms) noexcept {
  return guard("login throttle", [&]() -> Status {
    auto r = pool_->run(kPurge, {pg::param(now_ms - window_ms(limits_))}, pg::Retry::kSafe);
    return r.ok() ? Status::Ok() : r.status().with_context("login throttle: purge");
  });
}

}  // namespace dfd::info_postgres
