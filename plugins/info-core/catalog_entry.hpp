// info-core: the catalog's entries as the memory view and the stores see them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dfd::info {

// One catalog entry. Immutable once published in the memory view (shared between readers).
struct CatalogFile {
  std::int64_t id = 0;
  std::string uid;
  std::string name;
  std::uint64_t size = 0;
  std::string alg;
  std::uint64_t chunk_size = 0;
  std::vector<std::string> chunks;
  std::int64_t first_seen_ms = 0;
  // Pre-rendered JSON (catalog_rules.hpp, render()), so a manifest costs no per-request
  // serialization of the chunk list:
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

}  // namespace dfd::info
