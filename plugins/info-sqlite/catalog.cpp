#include "catalog.hpp"

#include "dfd/chunks.hpp"
#include "file_name.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>

namespace dfd::info_sqlite {

namespace {
using json = nlohmann::json;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS files(
  id INTEGER PRIMARY KEY,
  uid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  alg TEXT NOT NULL,
  chunk_size INTEGER NOT NULL,
  chunks TEXT NOT NULL,
  first_seen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS locations(
  uid TEXT NOT NULL,
  server_id TEXT NOT NULL,
  url TEXT NOT NULL,
  zone TEXT NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY(uid, server_id));
CREATE TABLE IF NOT EXISTS servers(
  server_id TEXT PRIMARY KEY,
  zone TEXT NOT NULL,
  url TEXT NOT NULL,
  last_heartbeat INTEGER NOT NULL,
  interval_ms INTEGER NOT NULL);
)sql";

// A prepared statement, finalized on scope exit. Used only under Catalog::db_mu_.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& bind(int i, const std::string& s) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() {
    if (rc_ != SQLITE_OK && rc_ != SQLITE_ROW && rc_ != SQLITE_DONE) return rc_;
    rc_ = sqlite3_step(st_);
    return rc_;
  }
  Status run(const char* what) {
    int rc = step();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
    return error(what);
  }
  Status error(const char* what) const {
    return Status::IoError(std::string("catalog: ") + what + ": " + sqlite3_errmsg(db_));
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(st_, col); }
  std::string text(int col) const {
    const unsigned char* p = sqlite3_column_text(st_, col);
    int n = sqlite3_column_bytes(st_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int rc_ = SQLITE_OK;
};

bool is_hex(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_printable(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

bool is_http_url(const std::string& s) {
  if (s.size() > 2048 || !is_printable(s, 2048)) return false;
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

Status validate(const events::FileAvailable& f) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!is_printable(f.server_id, 256)) {
    return Status::InvalidArgument("file.available: bad server_id");
  }
  if (!is_printable(f.zone, 256)) return Status::InvalidArgument("file.available: bad zone");
  if (!is_http_url(f.url)) return Status::InvalidArgument("file.available: bad url");
  if (!is_hex(f.uid, 256)) return Status::InvalidArgument("file.available: uid is not hex");
  if (std::string why = file_name_problem(f.name); !why.empty()) {
    return Status::InvalidArgument("file.available: " + why);
  }
  if (!is_printable(f.alg, 32)) return Status::InvalidArgument("file.available: bad alg");
  if (f.size > kMax || f.chunk_size == 0 || f.chunk_size > kMax) {
    return Status::InvalidArgument("file.available: size or chunk_size out of range");
  }
  std::uint64_t want = chunk_count(f.size, f.chunk_size);
  if (f.chunks.size() != want) {
    return Status::InvalidArgument("file.available: chunk count does not match size");
  }
  for (const auto& c : f.chunks) {
    if (!is_hex(c, 256))
      return Status::InvalidArgument("file.available: a chunk digest is not hex");
  }
  return Status::Ok();
}

void render(CatalogFile& f) {
  std::string s = "{\"id\":" + std::to_string(f.id) + ",\"uid\":" + json_quote(f.uid) +
                  ",\"name\":" + json_quote(f.name) + ",\"size\":" + std::to_string(f.size) +
                  ",\"digest\":{\"alg\":" + json_quote(f.alg) + ",\"value\":" + json_quote(f.uid) +
                  "}";
  f.list_json = s;
  s += ",\"chunk_size\":" + std::to_string(f.chunk_size) + ",\"chunks\":[";
  for (std::size_t i = 0; i < f.chunks.size(); ++i) {
    if (i) s += ',';
    s += '"';
    s += f.chunks[i];  // validated hex: no escaping needed
    s += '"';
  }
  s += ']';
  f.manifest_json = std::move(s);
}
}  // namespace

std::string json_quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::unique_ptr<Catalog>> Catalog::open(const std::string& path) noexcept {
  return guard("catalog", [&]() -> Result<std::unique_ptr<Catalog>> {
    std::unique_ptr<Catalog> c(new Catalog());
    int rc =
        sqlite3_open_v2(path.c_str(), &c->db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = c->db_ ? sqlite3_errmsg(c->db_) : sqlite3_errstr(rc);
      return Status::IoError("catalog: open '" + path + "': " + msg);
    }
    sqlite3_busy_timeout(c->db_, 5000);
    DFD_RETURN_IF_ERROR(c->exec("PRAGMA journal_mode=WAL").with_context("'" + path + "'"));
    DFD_RETURN_IF_ERROR(c->exec("PRAGMA synchronous=NORMAL"));
    DFD_RETURN_IF_ERROR(c->exec(kSchema).with_context("'" + path + "'"));
    DFD_RETURN_IF_ERROR(c->purge_unsafe_names().with_context("'" + path + "'"));
    DFD_RETURN_IF_ERROR(c->load().with_context("'" + path + "'"));
    return c;
  });
}

Catalog::~Catalog() {
  if (db_) sqlite3_close_v2(db_);
}

Status Catalog::exec(const char* sql) const {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status::IoError("catalog: " + msg);
}

// Entries stored before names were checked (issue 11, #8) are dropped with their locations; a
// file server announcing the file again under a clean name brings it back.
Status Catalog::purge_unsafe_names() {
  std::lock_guard<std::mutex> g(db_mu_);
  std::vector<std::string> bad;
  {
    Stmt s(db_, "SELECT uid, name FROM files");
    if (!s.ok()) return s.error("check file names");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      if (!file_name_problem(s.text(1)).empty()) bad.push_back(s.text(0));
    }
    if (rc != SQLITE_DONE) return s.error("check file names");
  }
  for (const std::string& uid : bad) {
    for (const char* sql :
         {"DELETE FROM locations WHERE uid = ?1", "DELETE FROM files WHERE uid = ?1"}) {
      Stmt d(db_, sql);
      DFD_RETURN_IF_ERROR(d.bind(1, uid).run("drop a file with an unsafe name"));
    }
  }
  purged_names_ = bad.size();
  return Status::Ok();
}

Status Catalog::load() {
  std::lock_guard<std::mutex> g(db_mu_);
  std::unique_lock<std::shared_mutex> w(mu_);
  {
    Stmt s(db_,
           "SELECT id, uid, name, size, alg, chunk_size, chunks, first_seen FROM files "
           "ORDER BY id");
    if (!s.ok()) return s.error("load files");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      auto f = std::make_shared<CatalogFile>();
      f->id = s.i64(0);
      f->uid = s.text(1);
      f->name = s.text(2);
      f->size = static_cast<std::uint64_t>(s.i64(3));
      f->alg = s.text(4);
      f->chunk_size = static_cast<std::uint64_t>(s.i64(5));
      json chunks = json::parse(s.text(6), nullptr, false);
      if (!chunks.is_array()) return Status::Corruption("catalog: file " + f->uid + ": bad chunks");
      for (const auto& c : chunks) {
        if (!c.is_string()) return Status::Corruption("catalog: file " + f->uid + ": bad chunks");
        f->chunks.push_back(c.get<std::string>());
      }
      f->first_seen_ms = s.i64(7);
      insert_memory(std::move(f));
    }
    if (rc != SQLITE_DONE) return s.error("load files");
  }
  {
    Stmt s(db_, "SELECT server_id, zone, url, last_heartbeat, interval_ms FROM servers");
    if (!s.ok()) return s.error("load servers");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      ServerState st;
      st.server_id = s.text(0);
      st.zone = s.text(1);
      st.url = s.text(2);
      st.last_heartbeat_ms = s.i64(3);
      st.interval_ms = s.i64(4);
      servers_[st.server_id] = st;
    }
    if (rc != SQLITE_DONE) return s.error("load servers");
  }
  {
    Stmt s(db_, "SELECT uid, server_id, url, zone, last_seen FROM locations");
    if (!s.ok()) return s.error("load locations");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      std::string uid = s.text(0);
      std::string server = s.text(1);
      locations_[uid][server] = Location{s.text(2), s.text(3), s.i64(4)};
      auto it = servers_.find(server);
      if (it != servers_.end()) ++it->second.files;
    }
    if (rc != SQLITE_DONE) return s.error("load locations");
  }
  return Status::Ok();
}

void Catalog::insert_memory(std::shared_ptr<CatalogFile> f) {
  render(*f);
  by_id_[f->id] = files_.size();
  by_uid_[f->uid] = files_.size();
  files_.push_back(std::move(f));
}

Status Catalog::apply_available(const events::FileAvailable& f, std::int64_t now_ms) noexcept {
  return guard("catalog: file.available", [&]() -> Status {
    DFD_RETURN_IF_ERROR(validate(f));
    std::lock_guard<std::mutex> g(db_mu_);
    std::shared_ptr<const CatalogFile> existing;
    {
      std::shared_lock<std::shared_mutex> r(mu_);
      auto it = by_uid_.find(f.uid);
      if (it != by_uid_.end()) existing = files_[it->second];
    }
    if (existing && (existing->size != f.size || existing->alg != f.alg)) {
      return Status::InvalidArgument("file.available: server '" + f.server_id + "' announces " +
                                     f.uid + " with a different size or algorithm");
    }
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
    DFD_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    auto rollback = [&](Status st) {
      (void)exec("ROLLBACK");
      return st;
    };
    std::shared_ptr<CatalogFile> added;
    if (!existing) {
      added = std::make_shared<CatalogFile>();
      added->uid = f.uid;
      added->name = f.name;
      added->size = f.size;
      added->alg = f.alg;
      added->chunk_size = f.chunk_size;
      added->chunks = f.chunks;
      added->first_seen_ms = now_ms;
      Stmt s(db_,
             "INSERT INTO files(uid, name, size, alg, chunk_size, chunks, first_seen) "
             "VALUES(?,?,?,?,?,?,?)");
      s.bind(1, f.uid)
          .bind(2, f.name)
          .bind(3, static_cast<std::int64_t>(f.size))
          .bind(4, f.alg)
          .bind(5, static_cast<std::int64_t>(f.chunk_size))
          .bind(6, json(f.chunks).dump())
          .bind(7, now_ms);
      Status st = s.run("insert file");
      if (!st.ok()) return rollback(st);
      added->id = sqlite3_last_insert_rowid(db_);
    }
    {
      Stmt s(db_,
             "INSERT INTO locations(uid, server_id, url, zone, last_seen) VALUES(?,?,?,?,?) "
             "ON CONFLICT(uid, server_id) DO UPDATE SET url=excluded.url, "
             "zone=excluded.zone, last_seen=excluded.last_seen");
      s.bind(1, f.uid).bind(2, f.server_id).bind(3, f.url).bind(4, f.zone).bind(5, now_ms);
      Status st = s.run("upsert location");
      if (!st.ok()) return rollback(st);
    }
    {
      // An announcement is a sign of life too (a server publishes its files before its first
      // heartbeat is due).
      Stmt s(db_,
             "INSERT INTO servers(server_id, zone, url, last_heartbeat, interval_ms) "
             "VALUES(?,?,?,?,0) ON CONFLICT(server_id) DO UPDATE SET zone=excluded.zone, "
             "url=excluded.url, last_heartbeat=max(last_heartbeat, excluded.last_heartbeat)");
      s.bind(1, f.server_id).bind(2, f.zone).bind(3, f.url).bind(4, now_ms);
      Status st = s.run("upsert server");
      if (!st.ok()) return rollback(st);
    }
    Status st = exec("COMMIT");
    if (!st.ok()) return rollback(st);

    std::unique_lock<std::shared_mutex> w(mu_);
    if (added) insert_memory(std::move(added));
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
    if (!is_printable(f.server_id, 256) || f.uid.empty() || f.uid.size() > 256) {
      return Status::InvalidArgument("file.removed: bad server_id or uid");
    }
    std::lock_guard<std::mutex> g(db_mu_);
    Stmt s(db_, "DELETE FROM locations WHERE uid=? AND server_id=?");
    s.bind(1, f.uid).bind(2, f.server_id);
    DFD_RETURN_IF_ERROR(s.run("delete location"));
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
    if (!is_printable(h.server_id, 256) || !is_printable(h.zone, 256) || !is_http_url(h.url) ||
        h.interval_ms < 0) {
      return Status::InvalidArgument("server.heartbeat: bad server_id, zone, url or interval_ms");
    }
    std::lock_guard<std::mutex> g(db_mu_);
    Stmt s(db_,
           "INSERT INTO servers(server_id, zone, url, last_heartbeat, interval_ms) "
           "VALUES(?,?,?,?,?) ON CONFLICT(server_id) DO UPDATE SET zone=excluded.zone, "
           "url=excluded.url, last_heartbeat=max(last_heartbeat, excluded.last_heartbeat), "
           "interval_ms=excluded.interval_ms");
    s.bind(1, h.server_id).bind(2, h.zone).bind(3, h.url).bind(4, now_ms).bind(5, h.interval_ms);
    DFD_RETURN_IF_ERROR(s.run("upsert server"));
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
  return it == by_id_.end() ? nullptr : files_[it->second];
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
  return guard("catalog", [&]() -> Status {
    std::lock_guard<std::mutex> g(db_mu_);
    Stmt s(db_, "SELECT count(*) FROM servers");
    if (!s.ok()) return s.error("check");
    return s.run("check");
  });
}

}  // namespace dfd::info_sqlite
