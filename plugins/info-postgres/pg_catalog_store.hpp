// info-postgres: the catalog's store in PostgreSQL, shared by every information server on the
// database (catalog_store.hpp in info-core states what a store does; the tables:
// info_postgres_schema.hpp).
//
// Several servers apply the same events (each consumes every event on its own queue), so every
// write is an upsert that converges whatever the order: a file's id comes from the database (the
// first server to store its uid assigns it, dense and the same for all), a location or heartbeat
// keeps its latest time (greatest()).
//
// Heartbeats: N servers receiving the same heartbeat must not make N writes. A server sends one
// only when it has not sent one for that file server within kHeartbeatWriteMs (or the zone, URL or
// interval changed), and the database updates the row only when its stored heartbeat is older than
// that: about one row write per file server per kHeartbeatWriteMs however many information
// servers run. The memory view of each server still has every heartbeat at once.
//
// Every statement is retry-safe (idempotent): a connection lost on the way is retried once on a
// fresh one (dfd_pg); while PostgreSQL is down the calls fail with kUnavailable.
//
// Thread-safety: every method may be called from any thread (the pool leases a connection per
// call; the heartbeat memo has its own mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "catalog_store.hpp"
#include "pg_pool.hpp"

namespace dfd::info_postgres {

// Within this many ms after a server's stored heartbeat, a newer one is not written.
constexpr std::int64_t kHeartbeatWriteMs = 2000;

class PgCatalogStore final : public info::CatalogStore {
 public:
  explicit PgCatalogStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  Result<info::CatalogRows> load() noexcept override;
  Result<std::shared_ptr<info::CatalogFile>> store_available(const events::FileAvailable& f,
                                                             std::int64_t now_ms) noexcept override;
  Status remove_location(const std::string& uid, const std::string& server_id) noexcept override;
  Status store_heartbeat(const events::Heartbeat& h, std::int64_t now_ms) noexcept override;
  Status check() const noexcept override;
  Result<info::CatalogRows> changes_since(const KnownFiles& known,
                                          std::int64_t since_ms) noexcept override;

  // Heartbeat statements sent and skipped by this server (tests, metrics).
  std::int64_t heartbeats_sent() const;
  std::int64_t heartbeats_skipped() const;

 private:
  struct Written {
    std::int64_t at_ms = 0;
    std::string zone;
    std::string url;
    std::int64_t interval_ms = 0;
  };
  // Files by id (nullopt: every file), servers and locations seen at or after since_ms.
  Status read_files(const std::string* ids, info::CatalogRows& rows);
  Status read_servers_and_locations(std::int64_t since_ms, info::CatalogRows& rows);

  std::shared_ptr<pg::Pool> pool_;
  mutable std::mutex written_mu_;
  std::unordered_map<std::string, Written> written_;  // server id → last heartbeat sent
  std::int64_t sent_ = 0;                             // guarded by written_mu_
  std::int64_t skipped_ = 0;                          // guarded by written_mu_
};

}  // namespace dfd::info_postgres
