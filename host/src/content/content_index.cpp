// The content index: manifests (uid, size, per-chunk digests) over any Storage plugin, cached in a
// SQLite sidecar keyed by path so unchanged files are never hashed twice.
//
// Conventions fixed here:
//   - uid = whole-file digest (lower-case hex) with the configured algorithm;
//   - chunks = one digest per chunk_size bytes, the last one possibly shorter; an EMPTY file has
//     ZERO chunks (its uid is the digest of the empty string);
//   - several paths with the same content are one uid; the first path in byte order names it;
//   - a cached row is reused only when (path, size, mtime_ns, alg, chunk_size) all match;
//   - a file that changes while it is hashed (size or mtime differ afterwards) is left out of this
//     scan and picked up by the next one.
//
// Memory stays bounded: one 1 MiB buffer per scan feeds both the whole-file and the chunk hasher;
// files of 8 MiB and more run the two hashers on two threads (one helper thread per rescan).
#include "content/content_index.hpp"

#include <fcntl.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dfd/chunks.hpp"

namespace dfd::host {
namespace {

constexpr std::size_t kReadSize = 1 << 20;
constexpr std::uint64_t kProgressBytes = 256ULL << 20;  // files this big log their progress
constexpr auto kProgressEvery = std::chrono::seconds(5);
constexpr std::uint64_t kParallelBytes = 8ULL << 20;  // bigger files hash on two threads

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

std::string join_chunks(const std::vector<std::string>& chunks) {
  std::string s;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (i) s += ',';
    s += chunks[i];
  }
  return s;
}

std::vector<std::string> split_chunks(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The SQLite cache. Not thread-safe: used only under the index's rescan mutex.
class Sidecar {
 public:
  Sidecar() = default;
  Sidecar(const Sidecar&) = delete;
  Sidecar& operator=(const Sidecar&) = delete;
  ~Sidecar() { close(); }

  bool is_open() const { return db_ != nullptr; }

  // Opens (creating) the database; an unreadable file is a cache: it is removed and rebuilt.
  Status open(const std::string& path, Logger& log) {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    Status st = open_once(path);
    if (st.ok() || st.code() != Code::kCorruption) return st;
    log.warn("content index: sidecar '" + path + "' is unreadable (" + st.message() +
             "); rebuilding it");
    close();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
    return open_once(path);
  }

  Result<std::optional<IndexedFile>> get(const std::string& path) {
    sqlite3_stmt* s = get_;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, path.data(), static_cast<int>(path.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<IndexedFile>();
    if (rc != SQLITE_ROW) return error("read cache row");
    IndexedFile f;
    f.path = path;
    f.size = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
    f.mtime_ns = sqlite3_column_int64(s, 1);
    f.alg = column_text(s, 2);
    f.chunk_size = static_cast<std::uint64_t>(sqlite3_column_int64(s, 3));
    f.uid = column_text(s, 4);
    f.chunks = split_chunks(column_text(s, 5));
    sqlite3_reset(s);
    return std::optional<IndexedFile>(std::move(f));
  }

  Status put(const IndexedFile& f) {
    sqlite3_stmt* s = put_;
    sqlite3_reset(s);
    std::string chunks = join_chunks(f.chunks);
    sqlite3_bind_text(s, 1, f.path.data(), static_cast<int>(f.path.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(f.size));
    sqlite3_bind_int64(s, 3, f.mtime_ns);
    sqlite3_bind_text(s, 4, f.alg.data(), static_cast<int>(f.alg.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(f.chunk_size));
    sqlite3_bind_text(s, 6, f.uid.data(), static_cast<int>(f.uid.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 7, chunks.data(), static_cast<int>(chunks.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? Status::Ok() : error("write cache row");
  }

  // Deletes every row whose path is not in `keep`; returns how many went.
  Result<std::size_t> remove_except(const std::set<std::string>& keep) {
    std::vector<std::string> gone;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT path FROM files", -1, &s, nullptr) != SQLITE_OK) {
      return error("list cache rows");
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::string p = column_text(s, 0);
      if (!keep.count(p)) gone.push_back(std::move(p));
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return error("list cache rows");
    if (gone.empty()) return std::size_t{0};
    DFD_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    for (auto& p : gone) {
      sqlite3_reset(del_);
      sqlite3_bind_text(del_, 1, p.data(), static_cast<int>(p.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(del_) != SQLITE_DONE) {
        Status st = error("delete cache row");
        sqlite3_reset(del_);
        (void)exec("ROLLBACK");
        return st;
      }
    }
    sqlite3_reset(del_);
    DFD_RETURN_IF_ERROR(exec("COMMIT"));
    return gone.size();
  }

 private:
  Status open_once(const std::string& path) {
    path_ = path;
    int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      Status st = error("open");
      close();
      return st;
    }
    sqlite3_busy_timeout(db_, 5000);
    const char* schema =
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS files("
        " path TEXT PRIMARY KEY NOT NULL,"
        " size INTEGER NOT NULL,"
        " mtime_ns INTEGER NOT NULL,"
        " alg TEXT NOT NULL,"
        " chunk_size INTEGER NOT NULL,"
        " uid TEXT NOT NULL,"
        " chunks TEXT NOT NULL) WITHOUT ROWID;"
        "PRAGMA user_version=1;";
    Status st = exec(schema);
    if (st.ok())
      st = prepare(&get_,
                   "SELECT size, mtime_ns, alg, chunk_size, uid, chunks FROM files "
                   "WHERE path = ?1");
    if (st.ok())
      st = prepare(&put_,
                   "INSERT OR REPLACE INTO files(path, size, mtime_ns, alg, chunk_size,"
                   " uid, chunks) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (st.ok()) st = prepare(&del_, "DELETE FROM files WHERE path = ?1");
    if (!st.ok()) close();
    return st;
  }

  void close() {
    for (sqlite3_stmt** s : {&get_, &put_, &del_}) {
      if (*s) sqlite3_finalize(*s);
      *s = nullptr;
    }
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  Status prepare(sqlite3_stmt** s, const char* sql) {
    return sqlite3_prepare_v2(db_, sql, -1, s, nullptr) == SQLITE_OK ? Status::Ok()
                                                                     : error("prepare");
  }

  Status exec(const char* sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string m = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    return status_for(rc, "content index: sidecar '" + path_ + "': " + m);
  }

  Status error(const std::string& what) const {
    int rc = db_ ? sqlite3_extended_errcode(db_) : SQLITE_CANTOPEN;
    std::string m = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    return status_for(rc, "content index: sidecar '" + path_ + "': " + what + ": " + m);
  }

  static Status status_for(int rc, std::string m) {
    switch (rc & 0xff) {
      case SQLITE_NOTADB:
      case SQLITE_CORRUPT:
        return Status::Corruption(std::move(m));
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return Status::Unavailable(std::move(m));
      default:
        return Status::IoError(std::move(m));
    }
  }

  static std::string column_text(sqlite3_stmt* s, int col) {
    const unsigned char* t = sqlite3_column_text(s, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
             : std::string();
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* del_ = nullptr;
};

// Runs one task at a time on its own thread, so the caller can overlap work with it. Used by one
// thread (the rescanning one); run() and wait() alternate.
class HashHelper {
 public:
  HashHelper() : thread_([this] { loop(); }) {}
  ~HashHelper() {
    {
      std::lock_guard<std::mutex> g(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  HashHelper(const HashHelper&) = delete;
  HashHelper& operator=(const HashHelper&) = delete;

  // `task` must not throw.
  void run(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> g(mu_);
      task_ = std::move(task);
      busy_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !busy_; });
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return quit_ || task_; });
      if (!task_) return;  // quit
      auto task = std::move(task_);
      task_ = nullptr;
      l.unlock();
      task();
      l.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool busy_ = false;
  bool quit_ = false;
  std::thread thread_;  // last: starts after the fields above exist
};

using FilePtr = std::shared_ptr<const IndexedFile>;

struct Snapshot {
  std::map<std::string, FilePtr> by_uid;
  std::unordered_map<std::string, FilePtr> by_path;  // every listed path (for cache reuse)
};

}  // namespace

struct ContentIndex::Impl {
  Impl(Storage& s, Digest& d, Logger& l, Metrics& m, ContentIndexOptions o)
      : storage(s),
        digest(d),
        log(l),
        options(std::move(o)),
        files_gauge(m.gauge("dfd_index_files", "Distinct files (by content) in the content index")),
        bytes_hashed(m.counter("dfd_index_bytes_hashed_total",
                               "Bytes read and hashed by the content index")),
        files_hashed(m.counter("dfd_index_files_hashed_total",
                               "Files hashed by the content index (cache misses)")),
        rescans(m.counter("dfd_index_rescans_total", "Content index rescans completed")),
        snapshot(std::make_shared<const Snapshot>()) {}

  bool matches(const IndexedFile& f, const FileEntry& e) const {
    return f.size == e.size && f.mtime_ns == e.mtime_ns && f.alg == options.algorithm &&
           f.chunk_size == options.chunk_size && !f.uid.empty() &&
           f.chunks.size() == dfd::chunk_count(f.size, f.chunk_size);
  }

  // Reads `e` once, feeding the whole-file hasher and the chunk hasher from the same buffer (on
  // two threads when a helper is given: the two digests are independent).
  Result<IndexedFile> hash(const FileEntry& e, std::vector<char>& buf, HashHelper* helper) {
    auto opened = storage.open(e.path);
    if (!opened.ok()) return opened.status();
    ReadHandle& h = **opened;
    if (h.fd() >= 0) (void)::posix_fadvise(h.fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
    if (h.size() != e.size) {
      return Status::Unavailable("'" + e.path + "' changed size since it was listed");
    }
    auto whole = digest.new_hasher(options.algorithm);
    if (!whole.ok()) return whole.status();
    auto chunk = digest.new_hasher(options.algorithm);
    if (!chunk.ok()) return chunk.status();

    IndexedFile f;
    f.path = e.path;
    f.alg = options.algorithm;
    f.size = e.size;
    f.mtime_ns = e.mtime_ns;
    f.chunk_size = options.chunk_size;
    f.chunks.reserve(static_cast<std::size_t>(dfd::chunk_count(e.size, options.chunk_size)));

    const bool big = e.size >= kProgressBytes;
    auto started = std::chrono::steady_clock::now();
    auto last_log = started;
    if (big) log.info("content index: hashing '" + e.path + "' (" + mib(e.size) + ")");

    std::uint64_t off = 0, in_chunk = 0;
    bool chunk_failed = false;
    while (off < e.size) {
      std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), e.size - off));
      auto n = h.read_at(off, buf.data(), want);
      if (!n.ok()) return n.status();
      if (*n == 0) return Status::Unavailable("'" + e.path + "' shrank while it was hashed");
      const std::size_t got = *n;
      auto feed_chunks = [&]() noexcept {
        try {
          std::size_t p = 0;
          while (p < got) {
            std::size_t take = static_cast<std::size_t>(
                std::min<std::uint64_t>(got - p, options.chunk_size - in_chunk));
            (*chunk)->update(buf.data() + p, take);
            p += take;
            in_chunk += take;
            if (in_chunk == options.chunk_size) {
              f.chunks.push_back((*chunk)->final_hex());
              (*chunk)->reset();
              in_chunk = 0;
            }
          }
        } catch (...) {
          chunk_failed = true;
        }
      };
      if (helper) {  // the chunk hasher on the helper thread, the whole-file hasher here
        helper->run(feed_chunks);
        (*whole)->update(buf.data(), got);
        helper->wait();
      } else {
        (*whole)->update(buf.data(), got);
        feed_chunks();
      }
      if (chunk_failed) return Status::ResourceExhausted("out of memory hashing '" + e.path + "'");
      off += *n;
      bytes_hashed.add(static_cast<double>(*n));
      if (big) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_log >= kProgressEvery) {
          last_log = now;
          log.info("content index: hashing '" + e.path +
                   "': " + std::to_string(off * 100 / e.size) + "% of " + mib(e.size));
        }
      }
    }
    if (in_chunk > 0) f.chunks.push_back((*chunk)->final_hex());
    f.uid = (*whole)->final_hex();
    files_hashed.add(1);
    if (big) {
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      log.info("content index: hashed '" + e.path + "' in " + std::to_string(secs) + " s");
    }
    // A file rewritten while we read it is not indexed with a mixed digest.
    auto after = storage.stat(e.path);
    if (!after.ok()) return after.status();
    if (after->size != e.size || after->mtime_ns != e.mtime_ns) {
      return Status::Unavailable("'" + e.path + "' changed while it was hashed");
    }
    return f;
  }

  Result<IndexChanges> rescan() {
    std::lock_guard<std::mutex> serial(rescan_mu);
    if (!opened) return Status::FailedPrecondition("content index: rescan() before open()");
    auto started = std::chrono::steady_clock::now();
    auto listing = storage.list();
    if (!listing.ok()) return listing.status().with_context("content index: list storage");
    std::vector<FileEntry>& entries = *listing;
    std::sort(entries.begin(), entries.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });

    std::shared_ptr<const Snapshot> prev = current();
    auto next = std::make_shared<Snapshot>();
    std::vector<char> buf;
    std::unique_ptr<HashHelper> helper;  // started on the first big file; joined on return
    std::size_t hashed = 0, failed = 0;
    double bytes_before = bytes_hashed.value();
    std::set<std::string> listed;

    for (const FileEntry& e : entries) {
      if (!listed.insert(e.path).second) continue;  // a backend listing a path twice
      FilePtr f;
      auto p = prev->by_path.find(e.path);
      if (p != prev->by_path.end() && matches(*p->second, e)) f = p->second;
      if (!f && sidecar.is_open()) {
        auto row = sidecar.get(e.path);
        if (!row.ok()) {
          log.warn(row.status().message());
        } else if (*row && matches(**row, e)) {
          f = std::make_shared<const IndexedFile>(std::move(**row));
        }
      }
      if (!f) {
        if (buf.empty()) buf.resize(kReadSize);
        if (!helper && e.size >= kParallelBytes) {
          try {
            helper = std::make_unique<HashHelper>();
          } catch (const std::exception& ex) {  // no thread: hash on this one
            log.debug(std::string("content index: no helper thread: ") + ex.what());
          }
        }
        auto h = hash(e, buf, e.size >= kParallelBytes ? helper.get() : nullptr);
        if (!h.ok()) {
          ++failed;
          log.warn("content index: skipping '" + e.path + "' this scan: " + h.status().to_string());
          continue;
        }
        ++hashed;
        f = std::make_shared<const IndexedFile>(std::move(*h));
        if (sidecar.is_open()) {
          Status st = sidecar.put(*f);
          if (!st.ok()) log.warn(st.message());
        }
      }
      next->by_path.emplace(e.path, f);
      next->by_uid.emplace(f->uid, f);  // entries are sorted: the first path keeps the uid
    }

    if (sidecar.is_open()) {
      auto removed = sidecar.remove_except(listed);
      if (!removed.ok()) log.warn(removed.status().message());
    }

    IndexChanges changes;
    for (auto& [uid, f] : next->by_uid) {
      auto old = prev->by_uid.find(uid);
      if (old == prev->by_uid.end() || old->second->path != f->path) changes.added.push_back(f);
    }
    for (auto& [uid, f] : prev->by_uid) {
      if (!next->by_uid.count(uid)) changes.removed.push_back(f);
    }

    std::size_t unique = next->by_uid.size();
    {
      std::lock_guard<std::mutex> g(snap_mu);
      snapshot = std::move(next);
    }
    files_gauge.set(static_cast<double>(unique));
    rescans.add(1);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log.info("content index: " + std::to_string(entries.size()) + " paths, " +
             std::to_string(unique) + " distinct files; hashed " + std::to_string(hashed) + " (" +
             mib(static_cast<std::uint64_t>(bytes_hashed.value() - bytes_before)) + ")" +
             (failed ? ", skipped " + std::to_string(failed) : std::string()) + "; +" +
             std::to_string(changes.added.size()) + " -" + std::to_string(changes.removed.size()) +
             " in " + std::to_string(secs) + " s");
    return changes;
  }

  std::shared_ptr<const Snapshot> current() const {
    std::lock_guard<std::mutex> g(snap_mu);
    return snapshot;
  }

  Storage& storage;
  Digest& digest;
  Logger& log;
  ContentIndexOptions options;
  Gauge& files_gauge;
  Counter& bytes_hashed;
  Counter& files_hashed;
  Counter& rescans;

  std::mutex rescan_mu;  // serialises open() and rescan(); guards sidecar and opened
  Sidecar sidecar;
  bool opened = false;

  mutable std::mutex snap_mu;  // guards the pointer only; snapshots are immutable
  std::shared_ptr<const Snapshot> snapshot;
};

ContentIndex::ContentIndex(Storage& storage, Digest& digest, Logger& log, Metrics& metrics,
                           ContentIndexOptions options)
    : impl_(std::make_unique<Impl>(storage, digest, log, metrics, std::move(options))) {}

ContentIndex::~ContentIndex() = default;

Status ContentIndex::open() noexcept {
  return guard("content index: open", [&]() -> Status {
    std::lock_guard<std::mutex> serial(impl_->rescan_mu);
    if (impl_->opened) return Status::Ok();
    const ContentIndexOptions& o = impl_->options;
    if (o.chunk_size == 0) {
      return Status::InvalidArgument("content index: chunk_size must be greater than 0");
    }
    auto probe = impl_->digest.new_hasher(o.algorithm);
    if (!probe.ok()) {
      return probe.status().with_context("content index: digest algorithm '" + o.algorithm + "'");
    }
    if (!o.db_path.empty()) DFD_RETURN_IF_ERROR(impl_->sidecar.open(o.db_path, impl_->log));
    impl_->opened = true;
    return Status::Ok();
  });
}

Result<IndexChanges> ContentIndex::rescan() noexcept {
  return guard("content index: rescan", [&] { return impl_->rescan(); });
}

std::shared_ptr<const IndexedFile> ContentIndex::find(const std::string& uid) const noexcept {
  auto snap = impl_->current();
  auto it = snap->by_uid.find(uid);
  return it == snap->by_uid.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const IndexedFile>> ContentIndex::all() const noexcept {
  try {
    auto snap = impl_->current();
    std::vector<std::shared_ptr<const IndexedFile>> out;
    out.reserve(snap->by_uid.size());
    for (auto& [uid, f] : snap->by_uid) out.push_back(f);
    return out;
  } catch (...) {
    return {};
  }
}

std::size_t ContentIndex::size() const noexcept {
  return impl_->current()->by_uid.size();
}

}  // namespace dfd::host
