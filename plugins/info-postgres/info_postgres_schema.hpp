// info-postgres: the schema of the shared catalog and login throttle (dfd_pg migrations,
// component "info-postgres"). Applied once per database however many information servers start
// at once (pg_migrate.hpp).
//
//   info_files(id, uid UNIQUE, name, size, alg, chunk_size, chunks JSON text, first_seen)
//   info_locations(uid, server_id, url, zone, last_seen)  PRIMARY KEY(uid, server_id)
//   info_servers(server_id PRIMARY KEY, zone, url, last_heartbeat, interval_ms)
//   info_login_failures(kind, key, at_ms, ticket)        the login throttle's failures
//   info_store_available(...)  one announcement in one call (pg_catalog_store.hpp)
//
// Every time is Unix milliseconds from the writing server's clock.
#pragma once

#include <vector>

#include "pg_migrate.hpp"

namespace dfd::info_postgres {

constexpr const char* kSchemaComponent = "info-postgres";

const std::vector<pg::MigrationStep>& schema_steps();

}  // namespace dfd::info_postgres
