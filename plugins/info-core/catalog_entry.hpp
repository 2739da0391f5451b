// info-core: the catalog's entries as the memory view and the stores see them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dfd/wire/manifest.hpp"

namespace dfd::info {

// One catalog entry: the file as a manifest describes it (id, uid, name, size, alg, chunk_size,
// chunks; its `digest` is the uid, filled by render()) plus what the catalog keeps. Immutable
// once published in the memory view (shared between readers).
struct CatalogFile : wire::ChunkedFile {
  std::int64_t first_seen_ms = 0;
  // Pre-rendered by the wire encoder (catalog_rules.hpp, render()), so a manifest costs no
  // per-request serialization of the chunk list (both objects left open):
  // list_json     = wire::append_file_summary_fields  {"id":..,..,"digest":{"alg":..,"value":..}
  // manifest_json = wire::append_chunked_file_fields  list_json + ,"chunk_size":..,"chunks":[..]
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
