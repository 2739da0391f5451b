#include "sqlite_catalog_store.hpp"

#include <nlohmann/json.hpp>

#include "file_name.hpp"

namespace dfd::info_sqlite {

namespace {
using json = nlohmann::json;
using info::CatalogFile;

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

constexpr const char* kFileColumns =
    "SELECT id, uid, name, size, alg, chunk_size, chunks, first_seen FROM files";

// A prepared statement, finalized on scope exit. Used only under SqliteCatalogStore::mu_.
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

// The file of a row selected with kFileColumns.
Result<std::shared_ptr<CatalogFile>> file_of(const Stmt& s) {
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
  return f;
}
}  // namespace

Result<std::unique_ptr<SqliteCatalogStore>> SqliteCatalogStore::open(
    const std::string& path) noexcept {
  return guard("catalog", [&]() -> Result<std::unique_ptr<SqliteCatalogStore>> {
    std::unique_ptr<SqliteCatalogStore> c(new SqliteCatalogStore());
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
    return c;
  });
}

Result<std::unique_ptr<info::Catalog>> open_sqlite_catalog(const std::string& path) noexcept {
  auto store = SqliteCatalogStore::open(path);
  if (!store.ok()) return store.status();
  auto cat = info::Catalog::open(std::move(store.value()));
  if (!cat.ok()) return cat.status().with_context("'" + path + "'");
  return cat;
}

SqliteCatalogStore::~SqliteCatalogStore() {
  if (db_) sqlite3_close_v2(db_);
}

Status SqliteCatalogStore::exec(const char* sql) const {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status::IoError("catalog: " + msg);
}

// Entries stored before names were checked (issue 11, #8) are dropped with their locations; a
// file server announcing the file again under a clean name brings it back.
Status SqliteCatalogStore::purge_unsafe_names() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::string> bad;
  {
    Stmt s(db_, "SELECT uid, name FROM files");
    if (!s.ok()) return s.error("check file names");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      if (!info::file_name_problem(s.text(1)).empty()) bad.push_back(s.text(0));
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

Result<info::CatalogRows> SqliteCatalogStore::load() noexcept {
  return guard("catalog: load", [&]() -> Result<info::CatalogRows> {
    std::lock_guard<std::mutex> g(mu_);
    info::CatalogRows rows;
    rows.purged_names = purged_names_;
    {
      Stmt s(db_, (std::string(kFileColumns) + " ORDER BY id").c_str());
      if (!s.ok()) return s.error("load files");
      int rc;
      while ((rc = s.step()) == SQLITE_ROW) {
        auto f = file_of(s);
        if (!f.ok()) return f.status();
        rows.files.push_back(std::move(f.value()));
      }
      if (rc != SQLITE_DONE) return s.error("load files");
    }
    {
      Stmt s(db_, "SELECT server_id, zone, url, last_heartbeat, interval_ms FROM servers");
      if (!s.ok()) return s.error("load servers");
      int rc;
      while ((rc = s.step()) == SQLITE_ROW) {
        info::ServerState st;
        st.server_id = s.text(0);
        st.zone = s.text(1);
        st.url = s.text(2);
        st.last_heartbeat_ms = s.i64(3);
        st.interval_ms = s.i64(4);
        rows.servers.push_back(std::move(st));
      }
      if (rc != SQLITE_DONE) return s.error("load servers");
    }
    {
      Stmt s(db_, "SELECT uid, server_id, url, zone, last_seen FROM locations");
      if (!s.ok()) return s.error("load locations");
      int rc;
      while ((rc = s.step()) == SQLITE_ROW) {
        rows.locations.push_back(
            info::StoredLocation{s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4)});
      }
      if (rc != SQLITE_DONE) return s.error("load locations");
    }
    return rows;
  });
}

Result<std::shared_ptr<CatalogFile>> SqliteCatalogStore::store_available(
    const events::FileAvailable& f, std::int64_t now_ms) noexcept {
  return guard("catalog: file.available", [&]() -> Result<std::shared_ptr<CatalogFile>> {
    std::lock_guard<std::mutex> g(mu_);
    DFD_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    auto rollback = [&](Status st) {
      (void)exec("ROLLBACK");
      return st;
    };
    std::shared_ptr<CatalogFile> stored;
    {
      Stmt s(db_, (std::string(kFileColumns) + " WHERE uid = ?1").c_str());
      s.bind(1, f.uid);
      int rc = s.step();
      if (rc == SQLITE_ROW) {
        auto row = file_of(s);
        if (!row.ok()) return rollback(row.status());
        stored = std::move(row.value());
      } else if (rc != SQLITE_DONE) {
        return rollback(s.error("find file"));
      }
    }
    if (stored && (stored->size != f.size || stored->alg != f.alg)) {
      (void)exec("ROLLBACK");
      return stored;  // the caller refuses the event
    }
    if (!stored) {
      stored = std::make_shared<CatalogFile>();
      stored->uid = f.uid;
      stored->name = f.name;
      stored->size = f.size;
      stored->alg = f.alg;
      stored->chunk_size = f.chunk_size;
      stored->chunks = f.chunks;
      stored->first_seen_ms = now_ms;
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
      stored->id = sqlite3_last_insert_rowid(db_);
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
    return stored;
  });
}

Status SqliteCatalogStore::remove_location(const std::string& uid,
                                           const std::string& server_id) noexcept {
  return guard("catalog: file.removed", [&]() -> Status {
    std::lock_guard<std::mutex> g(mu_);
    Stmt s(db_, "DELETE FROM locations WHERE uid=? AND server_id=?");
    s.bind(1, uid).bind(2, server_id);
    return s.run("delete location");
  });
}

Status SqliteCatalogStore::store_heartbeat(const events::Heartbeat& h,
                                           std::int64_t now_ms) noexcept {
  return guard("catalog: server.heartbeat", [&]() -> Status {
    std::lock_guard<std::mutex> g(mu_);
    Stmt s(db_,
           "INSERT INTO servers(server_id, zone, url, last_heartbeat, interval_ms) "
           "VALUES(?,?,?,?,?) ON CONFLICT(server_id) DO UPDATE SET zone=excluded.zone, "
           "url=excluded.url, last_heartbeat=max(last_heartbeat, excluded.last_heartbeat), "
           "interval_ms=excluded.interval_ms");
    s.bind(1, h.server_id).bind(2, h.zone).bind(3, h.url).bind(4, now_ms).bind(5, h.interval_ms);
    return s.run("upsert server");
  });
}

Status SqliteCatalogStore::check() const noexcept {
  return guard("catalog", [&]() -> Status {
    std::lock_guard<std::mutex> g(mu_);
    Stmt s(db_, "SELECT count(*) FROM servers");
    if (!s.ok()) return s.error("check");
    return s.run("check");
  });
}

}  // namespace dfd::info_sqlite
