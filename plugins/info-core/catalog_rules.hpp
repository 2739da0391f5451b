// info-core: what the catalog accepts from events (one rule for every store) and how an entry is
// rendered. Pure functions; thread-safe.
#pragma once

#include <string>

#include "catalog_entry.hpp"
#include "dfd/events.hpp"
#include "dfd/status.hpp"

namespace dfd::info {

// kInvalidArgument naming the first problem of a file.available body (server id, zone, url,
// hex uid and chunk digests, file name, algorithm, sizes, chunk count).
Status validate_available(const events::FileAvailable& f);
Status validate_removed(const events::FileRemoved& f);
Status validate_heartbeat(const events::Heartbeat& h);

// Fills f.digest (= f.uid), f.list_json and f.manifest_json (catalog_entry.hpp).
void render(CatalogFile& f);

}  // namespace dfd::info
