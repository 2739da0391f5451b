// Pools on the test binary's PostgreSQL (tests/support/postgres_fixture.hpp).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "pg_pool.hpp"
#include "postgres_fixture.hpp"

namespace dfd::pgtest {

inline pg::Settings settings_for(const test::PostgresInstance& pg, const std::string& dsn,
                                 int pool_size = 4) {
  pg::Settings s;
  s.dsn = dsn;
  s.password = pg.password();
  s.pool_size = pool_size;
  s.connect_timeout_ms = 3000;
  s.statement_timeout_ms = 5000;
  return s;
}

inline std::unique_ptr<pg::Pool> open_pool(const test::PostgresInstance& pg, const std::string& dsn,
                                           int pool_size = 4) {
  auto p = pg::Pool::open(settings_for(pg, dsn, pool_size), "pg-test");
  if (!p.ok()) {
    ADD_FAILURE() << p.status().to_string();
    return nullptr;
  }
  return std::move(p.value());
}

}  // namespace dfd::pgtest
