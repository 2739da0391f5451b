// Resume state of one download (`PATH.dfd-state`): which chunks of which manifest are verified in
// `PATH.dfd-part`. JSON, written crash-safely (temp file + fsync + rename + fsync of the dir).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dfd::client {

struct DownloadState {
  std::string uid;
  std::uint64_t size = 0;
  std::uint64_t chunk_size = 0;
  std::string alg;
  std::vector<bool> verified;  // one entry per chunk

  std::size_t verified_count() const;
  bool matches(const std::string& uid, std::uint64_t size, std::uint64_t chunk_size,
               const std::string& alg) const;
};

// Serialises to the JSON text stored on disk (and back). decode returns nullopt for anything
// malformed or inconsistent (wrong version, bitmap length vs size/chunk_size); `why` says what.
std::string encode_state(const DownloadState& s);
std::optional<DownloadState> decode_state(const std::string& text, std::string* why = nullptr);

// Writes `path` atomically: path.tmp, fsync, rename, fsync(dir). Returns errno (0 on success).
int save_state(const std::string& path, const DownloadState& s);
// Reads `path`: nullopt when absent or corrupt (`why` explains a corrupt one).
std::optional<DownloadState> load_state(const std::string& path, std::string* why = nullptr);

// Writes `data` to `path` atomically with `mode` (temp in the same dir, fsync, rename, fsync dir).
// Returns errno (0 on success).
int write_file_atomic(const std::string& path, const std::string& data, unsigned mode);

}  // namespace dfd::client
