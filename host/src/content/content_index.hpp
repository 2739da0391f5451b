// The file server's index of servable files over any Storage plugin: for each file its uid (the
// whole-file digest, hex), size, chunk size and one digest per chunk. Hashing is done with a
// Digest plugin, once per (path, size, mtime): results are cached in a SQLite sidecar so a
// restart does not re-hash unchanged files.
//
// Thread-safety: find()/all()/size() are safe from any thread at any time (they read an
// immutable snapshot); rescan() is serialised internally (one at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dfd/digest.hpp"
#include "dfd/host_services.hpp"
#include "dfd/storage.hpp"

namespace dfd::host {

struct IndexedFile {
  std::string uid;   // whole-file digest, lower-case hex
  std::string path;  // relative to the storage root
  std::string alg;   // digest algorithm name
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t chunk_size = 0;
  std::vector<std::string> chunks;  // per-chunk digests, ceil(size / chunk_size) entries
};

struct ContentIndexOptions {
  std::uint64_t chunk_size = 4 * 1024 * 1024;
  std::string algorithm = "sha256";
  std::string db_path;  // SQLite sidecar; empty = no cache (in-memory only)
  // Issue 15 (storage-http): the storage implements Storage::known_digests (its plugin's ABI
  // minor is >= 4). Then a file whose known digests use `algorithm` and `chunk_size` is indexed
  // from them without reading a byte; otherwise (other algorithm or chunk size, kNotSupported, an
  // error) it is read and hashed as usual, and the first mismatch is logged once with the reason.
  bool storage_knows_digests = false;
};

struct IndexChanges {
  std::vector<std::shared_ptr<const IndexedFile>> added;    // new or changed content
  std::vector<std::shared_ptr<const IndexedFile>> removed;  // no longer present
};

class ContentIndex {
 public:
  ContentIndex(Storage& storage, Digest& digest, Logger& log, Metrics& metrics,
               ContentIndexOptions options);
  ~ContentIndex();
  ContentIndex(const ContentIndex&) = delete;
  ContentIndex& operator=(const ContentIndex&) = delete;

  // Opens the sidecar (creating it). Call once before rescan().
  Status open() noexcept;
  // Lists the storage, hashes new/changed files (reusing cached digests), swaps in the new
  // snapshot and reports what changed since the previous snapshot.
  Result<IndexChanges> rescan() noexcept;
  // The file with this uid, or nullptr. Any string is safe to pass (a uid is only ever looked up,
  // never used as a path).
  std::shared_ptr<const IndexedFile> find(const std::string& uid) const noexcept;
  std::vector<std::shared_ptr<const IndexedFile>> all() const noexcept;
  // Every listed path's entry (several paths may share one uid), in path order.
  std::vector<std::shared_ptr<const IndexedFile>> all_paths() const noexcept;
  std::size_t size() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dfd::host
