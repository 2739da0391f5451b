// info-sqlite: the catalog's store in one SQLite file (WAL): tables files, locations, servers
// (catalog_store.hpp in info-core states what a store does). A file's id is its SQLite rowid.
//
// Thread-safety: one connection, every use under one internal mutex.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>

#include "catalog.hpp"
#include "catalog_store.hpp"

namespace dfd::info_sqlite {

class SqliteCatalogStore final : public info::CatalogStore {
 public:
  // Opens (creating if needed) the SQLite file at `path` in WAL mode; entries stored with an
  // unsafe name (older versions) are deleted with their locations.
  static Result<std::unique_ptr<SqliteCatalogStore>> open(const std::string& path) noexcept;
  ~SqliteCatalogStore() override;

  Result<info::CatalogRows> load() noexcept override;
  Result<std::shared_ptr<info::CatalogFile>> store_available(const events::FileAvailable& f,
                                                             std::int64_t now_ms) noexcept override;
  Status remove_location(const std::string& uid, const std::string& server_id) noexcept override;
  Status store_heartbeat(const events::Heartbeat& h, std::int64_t now_ms) noexcept override;
  Status check() const noexcept override;

 private:
  SqliteCatalogStore() = default;
  Status exec(const char* sql) const;
  Status purge_unsafe_names();

  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;  // serializes every use of db_
  std::size_t purged_names_ = 0;
};

// A Catalog (info-core) over the SQLite file at `path`.
Result<std::unique_ptr<info::Catalog>> open_sqlite_catalog(const std::string& path) noexcept;

}  // namespace dfd::info_sqlite
