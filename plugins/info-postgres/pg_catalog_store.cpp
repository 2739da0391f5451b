#include "pg_catalog_store.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "file_name.hpp"

namespace dfd::info_postgres {

namespace {
using json = nlohmann::json;
using info::CatalogFile;

#define DFD_INFO_FILE_COLUMNS "id, uid, name, size, alg, chunk_size, chunks, first_seen"

const pg::Statement kAllFiles{"info_all_files",
                              "SELECT " DFD_INFO_FILE_COLUMNS " FROM info_files ORDER BY id"};
const pg::Statement kFilesById{"info_files_by_id", "SELECT " DFD_INFO_FILE_COLUMNS
                                                   " FROM info_files WHERE id = ANY($1::bigint[]) "
                                                   "ORDER BY id"};
const pg::Statement kFileIds{"info_file_ids", "SELECT id FROM info_files"};
const pg::Statement kFileCount{"info_file_count",
                               "SELECT count(*), coalesce(max(id), 0) FROM info_files"};
const pg::Statement kServersSince{
    "info_servers_since",
    "SELECT server_id, zone, url, last_heartbeat, interval_ms FROM info_servers "
    "WHERE last_heartbeat >= $1"};
const pg::Statement kLocationsSince{
    "info_locations_since",
    "SELECT uid, server_id, url, zone, last_seen FROM info_locations WHERE last_seen >= $1"};
const pg::Statement kStoreAvailable{
    "info_store_available",
    "SELECT r_id, r_uid, r_name, r_size, r_alg, r_chunk_size, r_chunks, r_first_seen "
    "FROM info_store_available($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"};
const pg::Statement kRemoveLocation{"info_remove_location",
                                    "DELETE FROM info_locations WHERE uid = $1 AND server_id = $2"};
// The row changes only when its stored heartbeat is older than $6 ms before this one, or
// something else changed.
const pg::Statement kHeartbeat{
    "info_heartbeat",
    "INSERT INTO info_servers AS s(server_id, zone, url, last_heartbeat, interval_ms) "
    "VALUES($1, $2, $3, $4, $5) ON CONFLICT (server_id) DO UPDATE SET zone = excluded.zone, "
    "url = excluded.url, last_heartbeat = greatest(s.last_heartbeat, excluded.last_heartbeat), "
    "interval_ms = excluded.interval_ms "
    "WHERE s.last_heartbeat < excluded.last_heartbeat - $6 OR s.zone <> excluded.zone "
    "OR s.url <> excluded.url OR s.interval_ms <> excluded.interval_ms"};
const pg::Statement kCheck{"info_check", "SELECT 1"};

// The file of row `i` of a result with DFD_INFO_FILE_COLUMNS.
Result<std::shared_ptr<CatalogFile>> file_of(const pg::Rows& r, int i) {
  auto f = std::make_shared<CatalogFile>();
  f->id = r.int64(i, 0);
  f->uid = r.text(i, 1);
  f->name = r.text(i, 2);
  f->size = static_cast<std::uint64_t>(r.int64(i, 3));
  f->alg = r.text(i, 4);
  f->chunk_size = static_cast<std::uint64_t>(r.int64(i, 5));
  json chunks = json::parse(r.text(i, 6), nullptr, false);
  if (!chunks.is_array()) return Status::Corruption("catalog: file " + f->uid + ": bad chunks");
  for (const auto& c : chunks) {
    if (!c.is_string()) return Status::Corruption("catalog: file " + f->uid + ": bad chunks");
    f->chunks.push_back(c.get<std::string>());
  }
  f->first_seen_ms = r.int64(i, 7);
  return f;
}
}  // namespace

Status PgCatalogStore::read_files(const std::string* ids, info::CatalogRows& rows) {
  auto r = ids ? pool_->run(kFilesById, {*ids}, pg::Retry::kSafe)
               : pool_->run(kAllFiles, {}, pg::Retry::kSafe);
  if (!r.ok()) return r.status().with_context("catalog: read files");
  for (int i = 0; i < r->size(); ++i) {
    auto f = file_of(*r, i);
    if (!f.ok()) return f.status();
    if (!info::file_name_problem((*f)->name).empty()) {
      ++rows.purged_names;  // never stored by this version (names are checked first)
      continue;
    }
    rows.files.push_back(std::move(f.value()));
  }
  return Status::Ok();
}

Status PgCatalogStore::read_servers_and_locations(std::int64_t since_ms, info::CatalogRows& rows) {
  auto s = pool_->run(kServersSince, {pg::param(since_ms)}, pg::Retry::kSafe);
  if (!s.ok()) return s.status().with_context("catalog: read servers");
  for (int i = 0; i < s->size(); ++i) {
    info::ServerState st;
    st.server_id = s->text(i, 0);
    st.zone = s->text(i, 1);
    st.url = s->text(i, 2);
    st.last_heartbeat_ms = s->int64(i, 3);
    st.interval_ms = s->int64(i, 4);
    rows.servers.push_back(std::move(st));
  }
  auto l = pool_->run(kLocationsSince, {pg::param(since_ms)}, pg::Retry::kSafe);
  if (!l.ok()) return l.status().with_context("catalog: read locations");
  for (int i = 0; i < l->size(); ++i) {
    rows.locations.push_back(info::StoredLocation{l->text(i, 0), l->text(i, 1), l->text(i, 2),
                                                  l->text(i, 3), l->int64(i, 4)});
  }
  return Status::Ok();
}

Result<info::CatalogRows> PgCatalogStore::load() noexcept {
  return guard("catalog: load", [&]() -> Result<info::CatalogRows> {
    info::CatalogRows rows;
    DFD_RETURN_IF_ERROR(read_files(nullptr, rows));
    DFD_RETURN_IF_ERROR(read_servers_and_locations(std::numeric_limits<std::int64_t>::min(), rows));
    return rows;
  });
}

Result<info::CatalogRows> PgCatalogStore::changes_since(const KnownFiles& known,
                                                        std::int64_t since_ms) noexcept {
  return guard("catalog: refresh", [&]() -> Result<info::CatalogRows> {
    info::CatalogRows rows;
    auto count = pool_->run(kFileCount, {}, pg::Retry::kSafe);
    if (!count.ok()) return count.status().with_context("catalog: count files");
    // The memory view holds a subset of the stored files (it learns them from the store): the
    // same count and highest id mean the same files.
    if (count->int64(0, 0) != static_cast<std::int64_t>(known.count) ||
        count->int64(0, 1) != known.max_id) {
      auto ids = pool_->run(kFileIds, {}, pg::Retry::kSafe);
      if (!ids.ok()) return ids.status().with_context("catalog: read file ids");
      std::string missing;
      for (int i = 0; i < ids->size(); ++i) {
        std::int64_t id = ids->int64(i, 0);
        if (known.is_known && known.is_known(id)) continue;
        missing += missing.empty() ? "{" : ",";
        missing += std::to_string(id);
      }
      if (!missing.empty()) {
        missing += "}";
        DFD_RETURN_IF_ERROR(read_files(&missing, rows));
      }
    }
    DFD_RETURN_IF_ERROR(read_servers_and_locations(since_ms, rows));
    return rows;
  });
}

Result<std::shared_ptr<CatalogFile>> PgCatalogStore::store_available(const events::FileAvailable& f,
                                                                     std::int64_t now_ms) noexcept {
  return guard("catalog: file.available", [&]() -> Result<std::shared_ptr<CatalogFile>> {
    auto r = pool_->run(kStoreAvailable,
                        {f.uid, f.name, pg::param(static_cast<std::int64_t>(f.size)), f.alg,
                         pg::param(static_cast<std::int64_t>(f.chunk_size)), json(f.chunks).dump(),
                         f.server_id, f.url, f.zone, pg::param(now_ms)},
                        pg::Retry::kSafe);
    if (!r.ok()) return r.status().with_context("catalog: store file.available");
    if (r->size() != 1 || r->null(0, 0)) {
      return Status::IoError("catalog: store file.available: no row returned");
    }
    return file_of(*r, 0);
  });
}

Status PgCatalogStore::remove_location(const std::string& uid,
                                       const std::string& server_id) noexcept {
  return guard("catalog: file.removed", [&]() -> Status {
    auto r = pool_->run(kRemoveLocation, {uid, server_id}, pg::Retry::kSafe);
    return r.ok() ? Status::Ok() : r.status().with_context("catalog: delete location");
  });
}

Status PgCatalogStore::store_heartbeat(const events::Heartbeat& h, std::int64_t now_ms) noexcept {
  return guard("catalog: server.heartbeat", [&]() -> Status {
    {
      std::lock_guard<std::mutex> g(written_mu_);
      auto it = written_.find(h.server_id);
      if (it != written_.end() && now_ms - it->second.at_ms < kHeartbeatWriteMs &&
          now_ms >= it->second.at_ms && it->second.zone == h.zone && it->second.url == h.url &&
          it->second.interval_ms == h.interval_ms) {
        ++skipped_;
        return Status::Ok();
      }
    }
    auto r = pool_->run(kHeartbeat,
                        {h.server_id, h.zone, h.url, pg::param(now_ms), pg::param(h.interval_ms),
                         pg::param(kHeartbeatWriteMs)},
                        pg::Retry::kSafe);
    if (!r.ok()) return r.status().with_context("catalog: store server.heartbeat");
    std::lock_guard<std::mutex> g(written_mu_);
    written_[h.server_id] = Written{now_ms, h.zone, h.url, h.interval_ms};
    ++sent_;
    return Status::Ok();
  });
}

Status PgCatalogStore::check() const noexcept {
  return guard("catalog: check", [&]() -> Status {
    auto r = pool_->run(kCheck, {}, pg::Retry::kNo);
    return r.ok() ? Status::Ok() : r.status();
  });
}

std::int64_t PgCatalogStore::heartbeats_sent() const {
  std::lock_guard<std::mutex> g(written_mu_);
  return sent_;
}

std::int64_t PgCatalogStore::heartbeats_skipped() const {
  std::lock_guard<std::mutex> g(written_mu_);
  return skipped_;
}

}  // namespace dfd::info_postgres
