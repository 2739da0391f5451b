#include "pg_migrate.hpp"

#include <string>

namespace dfd::pg {
namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS dfd_schema_migrations("
    "  component TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
    "  PRIMARY KEY(component, version))";
constexpr Statement kSelectVersion{
    "dfd_pg_migration_version",
    "SELECT COALESCE(max(version), 0) FROM dfd_schema_migrations WHERE component = $1"};
constexpr Statement kRecordVersion{
    "dfd_pg_migration_record",
    "INSERT INTO dfd_schema_migrations(component, version) VALUES($1, $2)"};
constexpr Statement kTableExists{"dfd_pg_migration_table",
                                 "SELECT to_regclass('dfd_schema_migrations') IS NOT NULL"};

Status apply(Connection& c, std::string_view component, const std::vector<MigrationStep>& steps) {
  const std::string key = std::to_string(kMigrationLockKey);
  // No statement_timeout while migrating (waiting for the lock, long steps); this connection is
  // discarded afterwards, so the setting never reaches other callers.
  DFD_RETURN_IF_ERROR(c.exec("SET statement_timeout = 0").status());
  DFD_RETURN_IF_ERROR(c.exec("SELECT pg_advisory_lock(" + key + ")").status());
  auto body = [&]() -> Status {
    DFD_RETURN_IF_ERROR(c.exec(kCreateTable).status());
    auto v = c.run(kSelectVersion, {param(component)});
    if (!v.ok()) return v.status();
    const std::int64_t current = v->int64(0, 0, -1);
    if (current < 0) return Status::Internal("dfd_pg: unreadable schema version");
    for (const MigrationStep& s : steps) {
      if (s.version <= current) continue;
      Status st = [&]() -> Status {
        DFD_RETURN_IF_ERROR(c.exec("BEGIN").status());
        DFD_RETURN_IF_ERROR(c.exec(s.sql).status());
        DFD_RETURN_IF_ERROR(
            c.run(kRecordVersion, {param(component), param(std::int64_t{s.version})}).status());
        return c.exec("COMMIT").status();
      }();
      if (!st.ok()) {
        if (!c.lost()) (void)c.exec("ROLLBACK");
        return Status::Error(st.code(), std::string(st.message()) + " (migration " +
                                            std::string(component) + " version " +
                                            std::to_string(s.version) + ")");
      }
    }
    return Status::Ok();
  };
  Status st = body();
  if (!c.lost()) (void)c.exec("SELECT pg_advisory_unlock(" + key + ")");
  return st;
}

}  // namespace

Status migrate(Pool& pool, std::string_view component, const std::vector<MigrationStep>& steps) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1 || !steps[i].sql) {
      return Status::InvalidArgument("dfd_pg: migration steps of " + std::string(component) +
                                     " must be numbered 1, 2, 3 ... in order");
    }
  }
  for (int attempt = 0;; ++attempt) {
    auto lease = pool.lease();
    if (!lease.ok()) return lease.status();
    Status st = apply(*lease.value(), component, steps);
    const bool lost = lease.value()->lost();
    lease.value().discard();
    if (st.ok() || !lost || attempt > 0) return st;
  }
}

Result<int> schema_version(Pool& pool, std::string_view component) {
  auto exists = pool.run(kTableExists, {}, Retry::kSafe);
  if (!exists.ok()) return exists.status();
  if (!exists->boolean(0, 0)) return 0;
  auto v = pool.run(kSelectVersion, {param(component)}, Retry::kSafe);
  if (!v.ok()) return v.status();
  return static_cast<int>(v->int64(0, 0, 0));
}

}  // namespace dfd::pg
