// info-sqlite: the catalog (files, their locations, the file servers' heartbeats) kept in one
// SQLite file (WAL) with an in-memory view for the hot read paths (manifests, listings).
//
// Writes come from broker events (file.available, file.removed, server.heartbeat) and are
// idempotent: the same file announced by several servers is one catalog entry with several
// locations (a file's uid is its whole-file digest, so replicas are the same file). A write is
// committed to SQLite first and only then made visible in memory.
//
// Time: every method that needs "now" takes it as Unix milliseconds from the caller (the plugin
// passes HostServices::clock()), so tests can move time.
//
// Thread-safety: every public method is safe to call concurrently. Reads take a shared lock on
// the memory view; writes are serialized by a separate lock around the SQLite connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dfd/events.hpp"
#include "dfd/status.hpp"

namespace dfd::info_sqlite {

// One catalog entry. Immutable once published (shared between readers).
struct CatalogFile {
  std::int64_t id = 0;
  std::string uid;
  std::string name;
  std::uint64_t size = 0;
  std::string alg;
  std::uint64_t chunk_size = 0;
  std::vector<std::string> chunks;
  std::int64_t first_seen_ms = 0;
  // Pre-rendered JSON, so a manifest costs no per-request serialization of the chunk list:
  // list_json  = {"id":..,"uid":..,"name":..,"size":..,"digest":{"alg":..,"value":..}
  // manifest_json = list_json + ,"chunk_size":..,"chunks":[..]
  // (both without the closing brace).
  std::string list_json;
  std::string manifest_json;
};

struct ServerState {
  std::string server_id;
  std::string zone;
  std::string url;
  std::int64_t last_heartbeat_ms = 0;  // last time we heard from it (heartbeat or file.available)
  std::int64_t interval_ms = 0;        // its announced heartbeat interval (0 = unknown)
  std::size_t files = 0;               // locations it holds in the catalog
};

struct LiveLocation {
  std::string server_id;
  std::string zone;
  std::string url;
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
  // Opens (creating if needed) the SQLite file at `path` in WAL mode and loads it into memory.
  static Result<std::unique_ptr<Catalog>> open(const std::string& path) noexcept;
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // ---- writes (from events); kInvalidArgument for an event that can never apply (malformed,
  // conflicting), other errors when storing failed (worth a retry) ----
  Status apply_available(const events::FileAvailable& f, std::int64_t now_ms) noexcept;
  Status apply_removed(const events::FileRemoved& f) noexcept;
  Status apply_heartbeat(const events::Heartbeat& h, std::int64_t now_ms) noexcept;

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
  std::vector<ServerState> servers() const;
  std::size_t file_count() const;
  std::size_t live_server_count(std::int64_t now_ms, std::int64_t timeout_ms) const;

  // A cheap query on the database (health).
  Status check() const noexcept;

  // Files dropped at open() because their stored name fails file_name_problem() (stored by an
  // older version).
  std::size_t purged_names() const { return purged_names_; }

 private:
  Catalog() = default;
  struct Location {
    std::string url;
    std::string zone;
    std::int64_t last_seen_ms = 0;
  };
  Status exec(const char* sql) const;
  Status load();
  Status purge_unsafe_names();
  void insert_memory(std::shared_ptr<CatalogFile> f);
  bool live(const ServerState& s, std::int64_t now_ms, std::int64_t timeout_ms) const {
    return now_ms - s.last_heartbeat_ms <= timeout_ms;
  }

  sqlite3* db_ = nullptr;
  mutable std::mutex db_mu_;  // serializes every use of db_ and every write

  mutable std::shared_mutex mu_;                           // guards the members below
  std::vector<std::shared_ptr<const CatalogFile>> files_;  // id order (ids only grow)
  std::unordered_map<std::int64_t, std::size_t> by_id_;
  std::unordered_map<std::string, std::size_t> by_uid_;
  std::unordered_map<std::string, std::map<std::string, Location>> locations_;  // uid → server
  std::map<std::string, ServerState> servers_;
  std::size_t purged_names_ = 0;  // set in open()
};

// JSON string literal (quoted, escaped; invalid UTF-8 replaced) for hand-built bodies.
std::string json_quote(const std::string& s);

}  // namespace dfd::info_sqlite
