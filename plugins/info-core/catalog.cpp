#include "catalog.hpp"

#include <algorithm>
#include <tuple>

namespace dfd::info {

Result<std::unique_ptr<Catalog>> Catalog::open(std::unique_ptr<CatalogStore> store) noexcept {
  return guard("catalog", [&]() -> Result<std::unique_ptr<Catalog>> {
    std::unique_ptr<Catalog> c(new Catalog(std::move(store)));
    auto rows = c->store_->load();
    if (!rows.ok()) return rows.status();
    c->purged_names_ = rows->purged_names;
    std::unique_lock<std::shared_mutex> w(c->mu_);
    c->merge(std::move(rows.value()), nullptr);
    return c;
  });
}

void Catalog::insert_file(std::shared_ptr<CatalogFile> f) {
  if (by_id_.count(f->id) || by_uid_.count(f->uid)) return;
  render(*f);
  std::shared_ptr<const CatalogFile> c = std::move(f);
  by_id_[c->id] = c;
  by_uid_[c->uid] = c;
  if (files_.empty() || files_.back()->id < c->id) {
    files_.push_back(std::move(c));
    return;
  }
  // An id below the newest: another server stored it (or this one missed it) earlier.
  auto at = std::lower_bound(files_.begin(), files_.end(), c->id,
                             [](const auto& e, std::int64_t id) { return e->id < id; });
  files_.insert(at, std::move(c));
}

void Catalog::merge_server(const ServerState& s) {
  auto [it, added] = servers_.try_emplace(s.server_id, s);
  ServerState& srv = it->second;
  if (added) {
    srv.files = 0;
    return;
  }
  if (s.last_heartbeat_ms > srv.last_heartbeat_ms) {
    srv.zone = s.zone;
    srv.url = s.url;
    srv.interval_ms = s.interval_ms;
    srv.last_heartbeat_ms = s.last_heartbeat_ms;
  }
}

void Catalog::merge_location(const StoredLocation& l) {
  auto& locs = locations_[l.uid];
  auto [it, added] = locs.try_emplace(l.server_id, Location{l.url, l.zone, l.last_seen_ms});
  if (added) {
    auto srv = servers_.find(l.server_id);
    if (srv != servers_.end()) ++srv->second.files;
  } else if (l.last_seen_ms > it->second.last_seen_ms) {
    it->second = Location{l.url, l.zone, l.last_seen_ms};
  }
}

void Catalog::merge(CatalogRows rows, std::size_t* new_files) {
  std::sort(rows.files.begin(), rows.files.end(),
            [](const auto& a, const auto& b) { return a->id < b->id; });
  std::size_t before = files_.size();
  for (auto& f : rows.files) insert_file(std::move(f));
  if (new_files) *new_files = files_.size() - before;
  for (const auto& s : rows.servers) merge_server(s);
  for (const auto& l : rows.locations) merge_location(l);
}

Status Catalog::conflict(const events::FileAvailable& f) {
  return Status::InvalidArgument("file.available: server '" + f.server_id + "' announces " + f.uid +
                                 " with a different size or algorithm");
}

Status Catalog::apply_available(const events::FileAvailable& f, std::int64_t now_ms) noexcept {
  return guard("catalog: file.available", [&]() -> Status {
    DFD_RETURN_IF_ERROR(validate_available(f));
    std::lock_guard<std::mutex> g(store_mu_);
    std::shared_ptr<const CatalogFile> existing;
    {
      std::shared_lock<std::shared_mutex> r(mu_);
      auto it = by_uid_.find(f.uid);
      if (it != by_uid_.end()) existing = it->second;
    }
    if (existing && (existing->size != f.size || existing->alg != f.alg)) return conflict(f);
    if (existing) {
      // A re-announcement (file servers repeat them periodically) that changes nothing stored:
      // only the sign of life is new, and that is kept in memory (heartbeats persist it).
      std::unique_lock<std::shared_mutex> w(mu_);
      auto locs = locations_.find(f.uid);
      auto srv = servers_.find(f.server_id);
      if (locs != locations_.end() && srv != servers_.end() && srv->second.zone == f.zone &&
          srv->second.url == f.url) {
        auto loc = locs->second.find(f.server_id);
        if (loc != locs->second.end() && loc->second.url == f.url && loc->second.zone == f.zone) {
          loc->second.last_seen_ms = std::max(loc->second.last_seen_ms, now_ms);
          srv->second.last_heartbeat_ms = std::max(srv->second.last_heartbeat_ms, now_ms);
          return Status::Ok();
        }
      }
    }
    auto stored = store_->store_available(f, now_ms);
    if (!stored.ok()) return stored.status();
    const bool conflicting = (*stored)->size != f.size || (*stored)->alg != f.alg;

    std::unique_lock<std::shared_mutex> w(mu_);
    // Another server stored the uid first: its entry is the catalog's, conflicting or not.
    if (!existing) insert_file(std::move(stored.value()));
    if (conflicting) return conflict(f);
    auto& locs = locations_[f.uid];
    bool is_new_location = locs.count(f.server_id) == 0;
    locs[f.server_id] = Location{f.url, f.zone, now_ms};
    auto& srv = servers_[f.server_id];
    srv.server_id = f.server_id;
    srv.zone = f.zone;
    srv.url = f.url;
    srv.last_heartbeat_ms = std::max(srv.last_heartbeat_ms, now_ms);
    if (is_new_location) ++srv.files;
    return Status::Ok();
  });
}

Status Catalog::apply_removed(const events::FileRemoved& f) noexcept {
  return guard("catalog: file.removed", [&]() -> Status {
    DFD_RETURN_IF_ERROR(validate_removed(f));
    std::lock_guard<std::mutex> g(store_mu_);
    DFD_RETURN_IF_ERROR(store_->remove_location(f.uid, f.server_id));
    std::unique_lock<std::shared_mutex> w(mu_);
    auto it = locations_.find(f.uid);
    if (it != locations_.end() && it->second.erase(f.server_id) > 0) {
      auto srv = servers_.find(f.server_id);
      if (srv != servers_.end() && srv->second.files > 0) --srv->second.files;
      if (it->second.empty()) locations_.erase(it);
    }
    return Status::Ok();
  });
}

Status Catalog::apply_heartbeat(const events::Heartbeat& h, std::int64_t now_ms) noexcept {
  return guard("catalog: server.heartbeat", [&]() -> Status {
    DFD_RETURN_IF_ERROR(validate_heartbeat(h));
    std::lock_guard<std::mutex> g(store_mu_);
    DFD_RETURN_IF_ERROR(store_->store_heartbeat(h, now_ms));
    std::unique_lock<std::shared_mutex> w(mu_);
    auto& srv = servers_[h.server_id];
    srv.server_id = h.server_id;
    srv.zone = h.zone;
    srv.url = h.url;
    srv.last_heartbeat_ms = std::max(srv.last_heartbeat_ms, now_ms);
    srv.interval_ms = h.interval_ms;
    return Status::Ok();
  });
}

Result<std::size_t> Catalog::refresh(std::int64_t since_ms) noexcept {
  return guard("catalog: refresh", [&]() -> Result<std::size_t> {
    // Held across the read and the merge: an event applied meanwhile (a removal) cannot be
    // undone by rows read before it.
    std::lock_guard<std::mutex> g(store_mu_);
    CatalogStore::KnownFiles known;
    {
      std::shared_lock<std::shared_mutex> r(mu_);
      known.count = files_.size();
      known.max_id = files_.empty() ? 0 : files_.back()->id;
    }
    known.is_known = [this](std::int64_t id) {
      std::shared_lock<std::shared_mutex> r(mu_);
      return by_id_.count(id) > 0;
    };
    auto rows = store_->changes_since(known, since_ms);
    if (!rows.ok()) return rows.status();
    std::size_t added = 0;
    std::unique_lock<std::shared_mutex> w(mu_);
    merge(std::move(rows.value()), &added);
    return added;
  });
}

FilePage Catalog::list(std::size_t limit, std::size_t offset, std::int64_t now_ms,
                       std::int64_t timeout_ms) const {
  FilePage page;
  std::shared_lock<std::shared_mutex> r(mu_);
  page.total = files_.size();
  for (std::size_t i = offset; i < files_.size() && page.files.size() < limit; ++i) {
    FilePage::Entry e;
    e.file = files_[i];
    auto locs = locations_.find(e.file->uid);
    if (locs != locations_.end()) {
      for (const auto& [server_id, loc] : locs->second) {
        auto srv = servers_.find(server_id);
        if (srv != servers_.end() && live(srv->second, now_ms, timeout_ms)) {
          e.available = true;
          break;
        }
      }
    }
    page.files.push_back(std::move(e));
  }
  return page;
}

std::shared_ptr<const CatalogFile> Catalog::find(std::int64_t id) const {
  std::shared_lock<std::shared_mutex> r(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<LiveLocation> Catalog::live_locations(const std::string& uid, const std::string& zone,
                                                  std::int64_t now_ms,
                                                  std::int64_t timeout_ms) const {
  std::vector<LiveLocation> out;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    auto locs = locations_.find(uid);
    if (locs == locations_.end()) return out;
    for (const auto& [server_id, loc] : locs->second) {
      auto srv = servers_.find(server_id);
      if (srv == servers_.end() || !live(srv->second, now_ms, timeout_ms)) continue;
      // The server's latest heartbeat knows its current zone and URL best.
      out.push_back(LiveLocation{server_id, srv->second.zone, srv->second.url});
    }
  }
  std::stable_sort(out.begin(), out.end(), [&](const LiveLocation& a, const LiveLocation& b) {
    bool a_other = zone.empty() || a.zone != zone;
    bool b_other = zone.empty() || b.zone != zone;
    return std::tie(a_other, a.zone, a.server_id) < std::tie(b_other, b.zone, b.server_id);
  });
  return out;
}

std::vector<FileLocation> Catalog::locations(const std::string& uid, std::int64_t now_ms,
                                             std::int64_t timeout_ms) const {
  std::vector<FileLocation> out;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    auto locs = locations_.find(uid);
    if (locs == locations_.end()) return out;
    for (const auto& [server_id, loc] : locs->second) {
      FileLocation l{server_id, loc.zone, loc.url, false, loc.last_seen_ms};
      auto srv = servers_.find(server_id);
      if (srv != servers_.end()) {  // its latest heartbeat knows its zone and URL best
        l.zone = srv->second.zone;
        l.url = srv->second.url;
        l.healthy = live(srv->second, now_ms, timeout_ms);
        l.last_seen_ms = std::max(l.last_seen_ms, srv->second.last_heartbeat_ms);
      }
      out.push_back(std::move(l));
    }
  }
  std::sort(out.begin(), out.end(), [](const FileLocation& a, const FileLocation& b) {
    return std::tie(a.zone, a.server_id) < std::tie(b.zone, b.server_id);
  });
  return out;
}

std::vector<ServerState> Catalog::servers() const {
  std::shared_lock<std::shared_mutex> r(mu_);
  std::vector<ServerState> out;
  out.reserve(servers_.size());
  for (const auto& [id, s] : servers_) out.push_back(s);
  return out;
}

std::size_t Catalog::file_count() const {
  std::shared_lock<std::shared_mutex> r(mu_);
  return files_.size();
}

std::size_t Catalog::live_server_count(std::int64_t now_ms, std::int64_t timeout_ms) const {
  std::shared_lock<std::shared_mutex> r(mu_);
  std::size_t n = 0;
  for (const auto& [id, s] : servers_) n += live(s, now_ms, timeout_ms) ? 1 : 0;
  return n;
}

Status Catalog::check() const noexcept {
  return store_->check();
}

}  // namespace dfd::info
