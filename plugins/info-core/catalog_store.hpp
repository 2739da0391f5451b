// info-core: where a catalog is kept durably (info-sqlite: one SQLite file; info-postgres: a
// PostgreSQL database several information servers share). The memory view in front of it, the
// validation of events and the answers to requests are the Catalog's (catalog.hpp); a store only
// reads and writes rows.
//
// Writes are idempotent upserts: applying the same event twice, or on two information servers
// sharing one store, converges to the same rows. A file's id is assigned by the store when its
// uid (the whole-file digest) is first stored and never changes; ids only grow.
//
// Time: every timestamp is Unix milliseconds from the caller's clock.
//
// Thread-safety: the Catalog serializes every call except check() (health), which may run
// concurrently with any other.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catalog_entry.hpp"
#include "dfd/events.hpp"
#include "dfd/status.hpp"

namespace dfd::info {

// One stored location: `server_id` holds `uid`.
struct StoredLocation {
  std::string uid;
  std::string server_id;
  std::string url;
  std::string zone;
  std::int64_t last_seen_ms = 0;
};

// Rows read from a store: everything (load) or what changed (changes_since).
struct CatalogRows {
  std::vector<std::shared_ptr<CatalogFile>> files;  // not rendered; any order
  std::vector<ServerState> servers;                 // `files` not filled in
  std::vector<StoredLocation> locations;
  std::size_t purged_names = 0;  // entries dropped for an unsafe name (file_name.hpp)
};

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;

  // Everything stored. Entries whose name fails file_name_problem() (stored by an older
  // version) are left out and counted in purged_names.
  virtual Result<CatalogRows> load() noexcept = 0;

  // An announcement, atomically: stores the file when its uid is new (a new id), upserts the
  // location and the server's sign of life (its last heartbeat becomes at least `now_ms`).
  // Returns the file as stored. When the stored file has another size or algorithm nothing is
  // written and that stored file is returned: the caller refuses the event.
  virtual Result<std::shared_ptr<CatalogFile>> store_available(const events::FileAvailable& f,
                                                               std::int64_t now_ms) noexcept = 0;
  // Deletes one location (absent: nothing to do).
  virtual Status remove_location(const std::string& uid, const std::string& server_id) noexcept = 0;
  // Upserts a server's zone, URL, interval; its last heartbeat becomes at least `now_ms` (a
  // store may skip a write whose stored heartbeat is recent enough, see its header).
  virtual Status store_heartbeat(const events::Heartbeat& h, std::int64_t now_ms) noexcept = 0;

  // A cheap query (health).
  virtual Status check() const noexcept = 0;

  // For a store several servers write: what others stored that this server may have missed.
  // `known_files` / `max_known_id` describe the memory view (`is_known(id)` answers for one id);
  // servers and locations written at or after `since_ms` are returned. Default: nothing (a store
  // only this server writes).
  struct KnownFiles {
    std::size_t count = 0;
    std::int64_t max_id = 0;
    std::function<bool(std::int64_t)> is_known;
  };
  virtual Result<CatalogRows> changes_since(const KnownFiles& known,
                                            std::int64_t since_ms) noexcept {
    (void)known;
    (void)since_ms;
    return CatalogRows{};
  }
};

}  // namespace dfd::info
