// info-core: the catalog (files, their locations, the file servers' heartbeats): a memory view for
// the hot read paths (manifests, listings) in front of a CatalogStore that keeps it durably
// (catalog_store.hpp: SQLite in info-sqlite, PostgreSQL in info-postgres).
//
// Writes come from broker events (file.available, file.removed, server.heartbeat) and are
// idempotent: the same file announced by several servers is one catalog entry with several
// locations (a file's uid is its whole-file digest, so replicas are the same file). A write is
// stored first and only then made visible in memory. The ids are the store's; the listing is in
// id order.
//
// A store shared by several information servers also holds what the others wrote: refresh()
// merges it into memory (files by id, heartbeats and sightings by their latest time), so what this
// server missed (rows written while it was down, an event it could not apply) shows up here too.
//
// Time: every method that needs "now" takes it as Unix milliseconds from the caller (the plugin
// passes HostServices::clock()), so tests can move time.
//
// Thread-safety: every public method is safe to call concurrently. Reads take a shared lock on
// the memory view; writes (and refresh) are serialized by a separate lock around the store;
// check() runs beside them (a store locks what it must).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog_entry.hpp"
#include "catalog_rules.hpp"
#include "catalog_store.hpp"
#include "dfd/events.hpp"
#include "dfd/status.hpp"

namespace dfd::info {

// A live file server holding a file, as the manifest lists it.
using LiveLocation = wire::Location;

// Where a file is, live or not (the status page: GET /v1/status/files).
struct FileLocation {
  std::string server_id;
  std::string zone;
  std::string url;
  bool healthy = false;           // its server was heard within the timeout
  std::int64_t last_seen_ms = 0;  // the server's latest heartbeat (or announcement)
};

// What a listing returns.
struct FilePage {
  struct Entry {
    std::shared_ptr<const CatalogFile> file;
    bool available = false;
  };
  std::vector<Entry> files;
  std::size_t total = 0;
};

class Catalog {
 public:
  // Loads everything `store` holds into memory.
  static Result<std::unique_ptr<Catalog>> open(std::unique_ptr<CatalogStore> store) noexcept;
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // ---- writes (from events); kInvalidArgument for an event that can never apply (malformed,
  // conflicting), other errors when storing failed (worth a retry) ----
  Status apply_available(const events::FileAvailable& f, std::int64_t now_ms) noexcept;
  Status apply_removed(const events::FileRemoved& f) noexcept;
  Status apply_heartbeat(const events::Heartbeat& h, std::int64_t now_ms) noexcept;

  // Merges what the store holds from other writers since `since_ms` (catalog_store.hpp,
  // changes_since). The number of files that were new here.
  Result<std::size_t> refresh(std::int64_t since_ms) noexcept;

  // ---- reads ----
  // `timeout_ms`: a server is live when now - last_heartbeat <= timeout_ms.
  FilePage list(std::size_t limit, std::size_t offset, std::int64_t now_ms,
                std::int64_t timeout_ms) const;
  // nullptr when unknown.
  std::shared_ptr<const CatalogFile> find(std::int64_t id) const;
  // Live locations of `uid`: servers in `zone` first, then the rest; ordered by (zone, server id)
  // inside each group.
  std::vector<LiveLocation> live_locations(const std::string& uid, const std::string& zone,
                                           std::int64_t now_ms, std::int64_t timeout_ms) const;
  // Every location of `uid`, live or not, ordered by (zone, server id).
  std::vector<FileLocation> locations(const std::string& uid, std::int64_t now_ms,
                                      std::int64_t timeout_ms) const;
  std::vector<ServerState> servers() const;
  std::size_t file_count() const;
  std::size_t live_server_count(std::int64_t now_ms, std::int64_t timeout_ms) const;

  // A cheap query on the store (health).
  Status check() const noexcept;

  // Files left out at open() because their stored name fails file_name_problem() (stored by an
  // older version).
  std::size_t purged_names() const { return purged_names_; }

 private:
  explicit Catalog(std::unique_ptr<CatalogStore> store) : store_(std::move(store)) {}
  struct Location {
    std::string url;
    std::string zone;
    std::int64_t last_seen_ms = 0;
  };
  // Under mu_ (unique). Each merges: a known id or uid is kept, times only grow.
  void insert_file(std::shared_ptr<CatalogFile> f);
  void merge_server(const ServerState& s);
  void merge_location(const StoredLocation& l);
  void merge(CatalogRows rows, std::size_t* new_files);
  static Status conflict(const events::FileAvailable& f);
  bool live(const ServerState& s, std::int64_t now_ms, std::int64_t timeout_ms) const {
    return now_ms - s.last_heartbeat_ms <= timeout_ms;
  }

  std::unique_ptr<CatalogStore> store_;
  mutable std::mutex store_mu_;  // serializes every write and refresh

  mutable std::shared_mutex mu_;                           // guards the members below
  std::vector<std::shared_ptr<const CatalogFile>> files_;  // id order
  std::unordered_map<std::int64_t, std::shared_ptr<const CatalogFile>> by_id_;
  std::unordered_map<std::string, std::shared_ptr<const CatalogFile>> by_uid_;
  std::unordered_map<std::string, std::map<std::string, Location>> locations_;  // uid → server
  std::map<std::string, ServerState> servers_;
  std::size_t purged_names_ = 0;  // set in open()
};

}  // namespace dfd::info
