// storage-http: verified chunks on local disk, under a byte cap, least recently used evicted.
//
// Layout: DIR/chunks/<alg>-<digest> holds one whole chunk whose bytes hashed to <digest> when it
// was stored (content-addressed: two files sharing a chunk share its file; a file changed at the
// origin has new digests and never meets its old chunks). DIR/tmp/ holds chunks being written;
// put() writes there and renames into chunks/, so a chunk file is always complete.
//
// Only put() adds a chunk, and the plugin calls it only with bytes it has just verified. read()
// re-checks the file's size against the chunk's expected length (a truncated or swapped file is
// dropped and reported absent, so the caller fetches it again); it does not re-hash: the directory
// is private to this process (0700), every byte was verified before it got there, and the client
// verifies every chunk it receives anyway (a disk that rots bytes costs one retried chunk at the
// client, while re-hashing would cost a full chunk's hash on every read).
//
// Thread-safety: every method may be called from any thread at once. A chunk evicted while a
// reader has it open stays readable through that reader's descriptor (unlink semantics).
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "dfd/host_services.hpp"

namespace dfd::storage_http {

class ChunkCache {
 public:
  ChunkCache(std::string dir, std::uint64_t max_bytes, Metrics& metrics, Logger& log);

  // Creates DIR/chunks and DIR/tmp (0700), empties DIR/tmp and takes stock of the chunks already
  // there (oldest modification first in the eviction order), evicting down to the cap.
  Status open() noexcept;

  // Copies up to `len` bytes of chunk `key` from `offset` (within the chunk) into `buf`.
  // kNotFound when the chunk is not cached (or its file is not `chunk_len` bytes long: then it is
  // dropped). A hit makes the chunk the most recently used.
  Result<std::size_t> read(const std::string& key, std::uint64_t chunk_len, std::uint64_t offset,
                           void* buf, std::size_t len) noexcept;
  // Stores a verified chunk (temp file + rename), then evicts the least recently used chunks (never
  // this one) until the total is under the cap. A chunk bigger than the cap is not kept.
  Status put(const std::string& key, const std::string& bytes) noexcept;

  bool contains(const std::string& key) const noexcept;
  std::uint64_t bytes() const noexcept;

 private:
  struct Entry {
    std::uint64_t size = 0;
    std::list<std::string>::iterator lru;  // position in lru_ (front = least recently used)
    std::uint64_t gen = 0;                 // distinct for every entry ever added (from 1)
  };
  std::string path_of(const std::string& key) const { return dir_ + "/chunks/" + key; }
  // Drops `key`'s entry (only the one numbered `gen`, unless 0); false when it was not there.
  bool forget_locked(const std::string& key, std::uint64_t gen = 0);
  void evict_locked(const std::string& keep);

  const std::string dir_;
  const std::uint64_t max_bytes_;
  Logger& log_;
  Counter& evictions_;
  Gauge& bytes_gauge_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;
  std::uint64_t total_ = 0;
  std::uint64_t tmp_seq_ = 0;
  std::uint64_t gen_seq_ = 0;
};

}  // namespace dfd::storage_http
