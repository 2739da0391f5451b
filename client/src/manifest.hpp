// The info server's answers as the client sees them (see docs/contracts.md, DESIGN "HTTP API").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// Limits on what a manifest may say (a hostile info server or --manifest file cannot push the
// client past them). Strings are also refused when they hold control characters
// (is_printable_text in util.hpp): a name with NUL, ESC, BEL, newline, DEL or C1 is refused.
struct ManifestLimits {
  static constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 50;       // 1 PiB, fits off_t
  static constexpr std::uint64_t kMaxChunkSize = std::uint64_t{1} << 30;  // 1 GiB
  static constexpr std::size_t kMaxChunks = std::size_t{1} << 20;         // digests per manifest
  static constexpr std::size_t kMaxLocations = 64;
  static constexpr std::size_t kMaxName = 4096;  // bytes, as the info server allows
  static constexpr std::size_t kMaxId = 256;     // server_id, zone, alg
  static constexpr std::size_t kMaxUid = 256;    // hex characters
  static constexpr std::size_t kMaxUrl = 2048;
  static constexpr std::size_t kMaxToken = 8192;
};

// Parses and validates a manifest (GET /v1/files/{id}); throws CliError(kServer) with a plain
// message when a field is missing, mistyped, out of the limits above or inconsistent: size and
// chunk_size (chunk_size > 0; chunk count == ceil(size / chunk_size) exactly, without overflow),
// digest lengths vs the algorithm, uid not hex, a location URL that is not http:// or https://,
// a name, server id, zone or token with control characters.
Manifest parse_manifest(const nlohmann::json& j);

// The same from the raw bytes of the JSON text (an info server reply or a --manifest file),
// parsed within bounded_json.hpp's limits. A pure function of `bytes`: no I/O, no global state,
// thread-safe; every failure is a CliError (the fuzz target's entry point).
Manifest parse_manifest_text(std::string_view bytes);

// The file name to use when `dfd get` has no -o: the last component of the catalog name (a
// relative path such as "videos/movie.bin" gives "movie.bin"). A name that is a path traversal or
// not a clean relative path is refused (CliError kUsage, "give -o PATH"): absolute, an empty,
// "." or ".." component, a component over 255 bytes, control characters.
std::string default_output_name(const std::string& name);

// One row of GET /v1/files.
struct FileEntry {
  std::int64_t id = 0;
  std::string uid;
  std::string name;
  std::uint64_t size = 0;
  std::string alg;
  std::string digest;
  // At least one file server holding it is live (the list's `available`); nullopt when the info
  // server does not say.
  std::optional<bool> available;
};
std::vector<FileEntry> parse_file_list(const nlohmann::json& j);

}  // namespace dfd::client
