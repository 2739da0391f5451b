// The info server's answers as the client sees them (see docs/contracts.md, DESIGN "HTTP API").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dfd::client {

struct Location {
  std::string server_id;
  std::string zone;
  std::string url;  // base URL, e.g. http://127.0.0.1:9101 (no trailing slash)
  bool healthy = true;
};

struct Manifest {
  std::int64_t id = 0;
  std::string uid;
  std::string name;
  std::uint64_t size = 0;
  std::string alg;     // sha256 | sha512 | sha3-256 | blake2b-512
  std::string digest;  // whole-file digest, lower-case hex
  std::uint64_t chunk_size = 0;
  std::vector<std::string> chunks;  // lower-case hex, one per chunk
  std::vector<Location> locations;
  std::string download_token;
  std::string token_expires_at;

  std::size_t chunk_count() const { return chunks.size(); }
  std::uint64_t chunk_offset(std::size_t i) const { return chunk_size * i; }
  std::uint64_t chunk_length(std::size_t i) const;
};

// Parses and validates a manifest (GET /v1/files/{id}); throws CliError(kServer) with a plain
// message when a field is missing or inconsistent (chunk count vs size, hex digests, alg).
Manifest parse_manifest(const nlohmann::json& j);

// One row of GET /v1/files.
struct FileEntry {
  std::int64_t id = 0;
  std::string uid;
  std::string name;
  std::uint64_t size = 0;
  std::string alg;
  std::string digest;
};
std::vector<FileEntry> parse_file_list(const nlohmann::json& j);

}  // namespace dfd::client
