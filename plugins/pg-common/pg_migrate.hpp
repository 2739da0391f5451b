// dfd_pg — schema migrations, once per database however many servers start at once.
//
// migrate(pool, component, steps) brings `component`'s schema to the last step's version:
// under a session-level pg_advisory_lock (one key for every dfd component), it reads the highest
// version recorded in dfd_schema_migrations(component, version, applied_at) and applies each
// newer step in its own transaction together with its row. A server that waited for the lock
// finds the steps recorded and applies nothing. A database already past the last step (a newer
// build migrated it) is accepted: migrations are additive, so older builds keep working.
//
// Steps: versions ascending from 1, each one SQL string (several statements allowed). A version's
// SQL never changes once released; a change is a new step.
//
// Errors: kInvalidArgument for badly ordered steps; a failing step's error with its version
// (kIoError ...); kUnavailable when PostgreSQL cannot be reached (tried twice when the connection
// is lost on the way). Thread-safety: any thread; concurrent calls serialise on the lock.
#pragma once

#include <string_view>
#include <vector>

#include "dfd/status.hpp"
#include "pg_pool.hpp"

namespace dfd::pg {

struct MigrationStep {
  int version;      // 1, 2, 3 ...
  const char* sql;  // applied in one transaction with its dfd_schema_migrations row
};

// The advisory lock key every dfd migration takes (bigint; "dfdmigr" in ASCII).
constexpr long long kMigrationLockKey = 0x6466646d696772LL;

Status migrate(Pool& pool, std::string_view component, const std::vector<MigrationStep>& steps);

// The highest version of `component` recorded (0 when none, or no table yet).
Result<int> schema_version(Pool& pool, std::string_view component);

}  // namespace dfd::pg
