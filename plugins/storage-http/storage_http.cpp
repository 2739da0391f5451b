// storage-http: a pull-through cache in front of an HTTP(S) origin (docs/storage-http.md).
//
//   [[plugin]]
//   name = "storage-http"
//   origin = "https://origin.example/files/"   # base URL of the files (Range support required)
//   index = "index.json"                         # relative to origin, or an absolute URL
//   cache_dir = "/var/cache/dfd/http"            # verified chunks + the last good index
//   cache_max_bytes = 10737418240                # cap; least recently used chunks are evicted
//   ca_file = "/etc/dfd/tls/origin-ca.pem"       # optional, for an https origin
//   timeout_ms = 10000                           # each origin request, connect included
//   index_refresh_s = 60                         # 0: fetch the index at start only
//
// list()/stat()/known_digests() answer from the origin's index (dfd-host index writes it); open()
// and read_at() serve each chunk from the cache, or fetch exactly that chunk with a Range request,
// verify it against the index's chunk digest and only then keep and serve it.
//
// Thread-safety: list/stat/open/known_digests and read_at run from any thread at once (the data
// plane calls them from its loop threads); the index is an immutable snapshot swapped under a
// mutex; concurrent misses of one chunk share one origin request (single flight).
#include <curl/curl.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "chunk_cache.hpp"
#include "dfd/creatable_file.hpp"
#include "dfd/dfd.hpp"
#include "dfd/log_throttle.hpp"
#include "dfd/wire/json_limits.hpp"
#include "dfd/wire/manifest.hpp"
#include "origin_client.hpp"

namespace dfd::storage_http {
namespace {

using wire::ChunkedFile;  // one entry of the origin index (the manifest codec's type)

using EntryPtr = std::shared_ptr<const ChunkedFile>;

struct IndexSnapshot {
  std::map<std::string, EntryPtr> files;  // by name
};

// A stable stand-in for a modification time: it changes whenever the content (digest) does.
std::int64_t mtime_of(const ChunkedFile& f) {
  std::int64_t v = 0;
  for (std::size_t i = 0; i < 15 && i < f.digest.size(); ++i) {
    char c = f.digest[i];
    v = v * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v;
}

bool is_http_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// One origin fetch that concurrent misses of the same chunk wait for.
struct Flight {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
  std::shared_ptr<const std::string> bytes;
};

class HttpStorage;

class HttpHandle final : public ReadHandle {
 public:
  HttpHandle(HttpStorage& s, EntryPtr f) : storage_(s), file_(std::move(f)) {}
  std::uint64_t size() const noexcept override { return file_->size; }
  Result<std::size_t> read_at(std::uint64_t offset, void* buf, std::size_t len) noexcept override;

 private:
  HttpStorage& storage_;
  EntryPtr file_;
};

class HttpStorage final : public Storage {
 public:
  explicit HttpStorage(HostServices& host)
      : host_(host),
        log_(host.logger()),
        hits_(host.metrics().counter("dfd_storage_http_hits_total",
                                     "storage-http reads answered from the cache")),
        misses_(host.metrics().counter("dfd_storage_http_misses_total",
                                       "storage-http reads that needed the origin")),
        origin_bytes_(host.metrics().counter("dfd_storage_http_origin_bytes_total",
                                             "Chunk bytes fetched from the origin")),
        verify_failures_(host.metrics().counter(
            "dfd_storage_http_verify_failures_total",
            "Chunks from the origin whose digest did not match the index (never kept)")),
        origin_errors_(host.metrics().counter("dfd_storage_http_origin_errors_total",
                                              "Failed origin requests (chunks and index)")),
        index_files_(host.metrics().gauge("dfd_storage_http_index_files",
                                          "Files in the origin index in use")) {}

  Status init() {
    const Config& c = host_.config();
    DFD_RETURN_IF_ERROR(c.allow_only({"origin", "index", "cache_dir", "cache_max_bytes", "ca_file",
                                      "timeout_ms", "index_refresh_s"}));
    if (!c.has("origin")) return c.error("origin", "required: the origin's base URL");
    auto origin = c.get_string("origin");
    if (!origin.ok()) return origin.status();
    if (!is_http_url(*origin) || origin->size() <= 8) {
      return c.error("origin", "must be an http:// or https:// URL, got '" + *origin + "'");
    }
    if (origin->find('?') != std::string::npos || origin->find('#') != std::string::npos) {
      return c.error("origin", "must be a base URL without query or fragment");
    }
    origin_ = *origin;
    if (origin_.back() != '/') origin_ += '/';
    auto index = c.string_or("index", "index.json");
    if (!index.ok()) return index.status();
    if (index->empty()) return c.error("index", "must not be empty");
    index_url_ = is_http_url(*index) ? *index : OriginClient::join(origin_, *index);
    if (!c.has("cache_dir")) return c.error("cache_dir", "required: where verified chunks go");
    auto dir = c.get_string("cache_dir");
    if (!dir.ok()) return dir.status();
    if (dir->empty() || (*dir)[0] != '/') return c.error("cache_dir", "must be an absolute path");
    cache_dir_ = *dir;
    if (Status st = check_creatable_file(cache_dir_ + "/index.json"); !st.ok()) {
      return c.error("cache_dir", st.message());
    }
    auto cap = c.int_or("cache_max_bytes", std::int64_t{10} << 30);
    if (!cap.ok()) return cap.status();
    if (*cap < (1 << 20)) return c.error("cache_max_bytes", "must be at least 1048576 (1 MiB)");
    cache_max_bytes_ = static_cast<std::uint64_t>(*cap);
    auto ca = c.string_or("ca_file", "");
    if (!ca.ok()) return ca.status();
    if (!ca->empty() && !std::ifstream(*ca)) {
      return c.error("ca_file", "cannot read '" + *ca + "'");
    }
    auto timeout = c.int_or("timeout_ms", 10000);
    if (!timeout.ok()) return timeout.status();
    if (*timeout < 100 || *timeout > 600000) {
      return c.error("timeout_ms", "must be 100..600000");
    }
    auto refresh = c.int_or("index_refresh_s", 60);
    if (!refresh.ok()) return refresh.status();
    if (*refresh < 0 || *refresh > 7 * 86400) {
      return c.error("index_refresh_s", "must be 0 (never) .. 604800");
    }
    refresh_s_ = *refresh;
    origin_client_ =
        std::make_unique<OriginClient>(OriginOptions{*ca, static_cast<long>(*timeout)});
    return Status::Ok();
  }

  Status start() noexcept override {
    Status st = guard("storage-http: start", [&] { return start_inner(); });
    if (!st.ok()) stop();  // the host stops only what started
    return st;
  }

  Status start_inner() {
    digest_ = host_.find<Digest>();
    if (!digest_) return Status::FailedPrecondition("storage-http needs a digest plugin");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      return Status::Internal("storage-http: curl_global_init failed");
    }
    curl_ready_ = true;
    cache_ = std::make_unique<ChunkCache>(cache_dir_, cache_max_bytes_, host_.metrics(), log_);
    DFD_RETURN_IF_ERROR(cache_->open().with_context("storage-http"));
    Status st = refresh_index();
    if (!st.ok()) {
      // An index the origin serves but that is malformed or too big is an operator's error:
      // refused loudly. An origin that cannot be reached or answers an error status is an
      // outage: the index kept from the last good fetch is served.
      if (st.code() == Code::kInvalidArgument || st.code() == Code::kResourceExhausted) {
        return st.with_context("storage-http: refusing the origin's index");
      }
      Status kept = load_kept_index();
      if (!kept.ok()) {
        log_.warn("origin unreachable (" + st.message() + ") and " + kept.message() +
                  ": serving nothing until the index can be fetched");
      } else {
        log_.warn("origin unreachable (" + st.message() + "): serving the index kept in '" +
                  cache_dir_ + "/index.json'");
      }
    }
    if (refresh_s_ > 0) refresher_ = std::thread([this] { refresh_loop(); });
    return Status::Ok();
  }

  void stop() noexcept override {
    {
      std::lock_guard<std::mutex> g(state_mu_);
      stopping_ = true;
    }
    state_cv_.notify_all();
    if (refresher_.joinable()) refresher_.join();
    if (curl_ready_) curl_global_cleanup();
    curl_ready_ = false;
  }

  Health health() const noexcept override {
    try {
      std::lock_guard<std::mutex> g(state_mu_);
      return {index_ok_, index_note_};
    } catch (...) {
      return {false, "storage-http: health unavailable"};
    }
  }

  Result<std::vector<FileEntry>> list() noexcept override {
    return guard("storage-http: list", [&]() -> Result<std::vector<FileEntry>> {
      auto snap = snapshot();
      std::vector<FileEntry> out;
      out.reserve(snap->files.size());
      for (const auto& [name, f] : snap->files) out.push_back({name, f->size, mtime_of(*f)});
      return out;
    });
  }

  Result<FileEntry> stat(std::string_view path) noexcept override {
    return guard("storage-http: stat", [&]() -> Result<FileEntry> {
      auto f = find(path);
      if (!f.ok()) return f.status();
      return FileEntry{(*f)->name, (*f)->size, mtime_of(**f)};
    });
  }

  Result<std::unique_ptr<ReadHandle>> open(std::string_view path) noexcept override {
    return guard("storage-http: open", [&]() -> Result<std::unique_ptr<ReadHandle>> {
      auto f = find(path);
      if (!f.ok()) return f.status();
      return std::unique_ptr<ReadHandle>(std::make_unique<HttpHandle>(*this, *f));
    });
  }

  Result<KnownDigests> known_digests(std::string_view path) noexcept override {
    return guard("storage-http: known_digests", [&]() -> Result<KnownDigests> {
      auto f = find(path);
      if (!f.ok()) return f.status();
      return KnownDigests{(*f)->alg, (*f)->digest, (*f)->chunk_size, (*f)->chunks};
    });
  }

  // Up to `len` bytes of `f` at `offset`, all within one chunk (a short read at its end).
  Result<std::size_t> read(const ChunkedFile& f, std::uint64_t offset, void* buf, std::size_t len) {
    if (offset >= f.size || len == 0) return std::size_t{0};
    const std::uint64_t i = offset / f.chunk_size;
    const std::uint64_t start = i * f.chunk_size;
    const std::uint64_t chunk_len = std::min(f.chunk_size, f.size - start);
    const std::uint64_t within = offset - start;
    len = static_cast<std::size_t>(std::min<std::uint64_t>(len, chunk_len - within));
    const std::string key = f.alg + "-" + f.chunks[static_cast<std::size_t>(i)];
    auto hit = cache_->read(key, chunk_len, within, buf, len);
    if (hit.ok()) {
      hits_.add(1);
      return hit;
    }
    if (hit.status().code() != Code::kNotFound) log_.warn(hit.status().message());
    misses_.add(1);
    auto bytes = fetch_once(f, static_cast<std::size_t>(i), key, start, chunk_len);
    if (!bytes.ok()) return bytes.status();
    std::memcpy(buf, (*bytes)->data() + within, len);
    return len;
  }

 private:
  Result<EntryPtr> find(std::string_view path) const {
    if (!is_safe_relative_path(path)) {
      return Status::InvalidArgument("storage-http: unsafe path");
    }
    auto snap = snapshot();
    auto it = snap->files.find(std::string(path));
    if (it == snap->files.end()) {
      return Status::NotFound("storage-http: '" + std::string(path) + "' is not in the index");
    }
    return it->second;
  }

  std::shared_ptr<const IndexSnapshot> snapshot() const {
    std::lock_guard<std::mutex> g(state_mu_);
    return index_;
  }

  // Single flight: the first miss of `key` fetches, the others wait for its outcome.
  Result<std::shared_ptr<const std::string>> fetch_once(const ChunkedFile& f, std::size_t i,
                                                        const std::string& key, std::uint64_t start,
                                                        std::uint64_t chunk_len) {
    std::shared_ptr<Flight> flight;
    bool leader = false;
    {
      std::lock_guard<std::mutex> g(flights_mu_);
      auto& slot = flights_[key];
      if (!slot) {
        slot = std::make_shared<Flight>();
        leader = true;
      }
      flight = slot;
    }
    if (!leader) {
      std::unique_lock<std::mutex> l(flight->mu);
      flight->cv.wait(l, [&] { return flight->done; });
      if (!flight->status.ok()) return flight->status;
      // No bytes (the leader threw), or the same digest under another length (a hostile index):
      // the leader's verified bytes do not cover this chunk.
      if (!flight->bytes || flight->bytes->size() != chunk_len) {
        return Status::IoError("storage-http: '" + f.name + "' chunk " + std::to_string(i) +
                               ": the shared fetch of its digest gave no chunk of this length");
      }
      return flight->bytes;
    }
    // The leader completes the flight on every way out (also when fetching throws), or its
    // waiters would wait forever.
    struct Complete {
      HttpStorage& self;
      const std::string& key;
      Flight& flight;
      ~Complete() {
        {
          std::lock_guard<std::mutex> g(self.flights_mu_);
          self.flights_.erase(key);
        }
        {
          std::lock_guard<std::mutex> l(flight.mu);
          flight.done = true;
        }
        flight.cv.notify_all();
      }
    } complete{*this, key, *flight};
    auto got = fetch_verified(f, i, key, start, chunk_len);
    std::lock_guard<std::mutex> l(flight->mu);
    if (!got.ok()) {
      flight->status = got.status();
      return got.status();
    }
    flight->bytes = std::make_shared<const std::string>(std::move(*got));
    return flight->bytes;
  }

  Result<std::string> fetch_verified(const ChunkedFile& f, std::size_t i, const std::string& key,
                                     std::uint64_t start, std::uint64_t chunk_len) {
    const std::string what = "storage-http: '" + f.name + "' chunk " + std::to_string(i);
    auto body =
        origin_client_->get_range(OriginClient::join(origin_, f.name), start, chunk_len, f.size);
    if (!body.ok()) {
      origin_errors_.add(1);
      log_limited(LogLevel::kWarn, what + ": " + body.status().message());
      return Status::IoError(what + ": " + body.status().message());
    }
    auto hasher = digest_->new_hasher(f.alg);
    if (!hasher.ok()) return hasher.status().with_context(what);
    (*hasher)->update(body->data(), body->size());
    origin_bytes_.add(static_cast<double>(body->size()));
    if ((*hasher)->final_hex() != f.chunks[i]) {
      verify_failures_.add(1);
      log_limited(LogLevel::kError, what +
                                        ": the origin's bytes do not match the index's digest; "
                                        "not served, not kept");
      return Status::IoError(what + ": the origin's bytes do not match the index's digest");
    }
    if (Status st = cache_->put(key, *body); !st.ok()) log_.warn(st.message());
    return body;
  }

  // Per-chunk failures are logged within a budget (a client retrying a chunk the origin cannot
  // give must not flood the log); the first line after a held-back stretch says how many.
  void log_limited(LogLevel level, const std::string& line) {
    std::uint64_t held = 0;
    {
      std::lock_guard<std::mutex> g(log_mu_);
      if (!log_budget_.allow(LogThrottle::Clock::now(), held)) return;
    }
    log_.log(level, held ? line + " (" + std::to_string(held) + " similar lines held back)" : line);
  }

  // Fetches and installs the origin's index; keeps a copy in cache_dir for a restart without the
  // origin. kUnavailable when the origin cannot be reached; other errors when it lies.
  Status refresh_index() {
    auto text = origin_client_->get(index_url_, wire::JsonLimits::kMaxBytes);
    Status st = text.ok() ? install_index(*text, "origin " + OriginClient::redact(index_url_))
                          : text.status();
    if (st.ok()) {
      keep_index(*text);
    } else {
      origin_errors_.add(1);
      std::lock_guard<std::mutex> g(state_mu_);
      index_note_ = "origin index: " + st.message() + "; serving " +
                    std::to_string(index_->files.size()) + " files of the index in use";
    }
    return st;
  }

  Status install_index(const std::string& text, const std::string& from) {
    auto decoded = wire::decode_file_index(text);
    if (!decoded.ok()) return decoded.status().with_context(from);
    std::vector<std::string> offered = digest_->algorithms();
    auto next = std::make_shared<IndexSnapshot>();
    for (ChunkedFile& f : *decoded) {  // names are unique (decode_file_index refuses a repeat)
      if (!is_safe_relative_path(f.name)) {
        return Status::InvalidArgument(from + ": '" + f.name.substr(0, 200) +
                                       "': name is not a safe relative path (no '..', no leading "
                                       "'/', no dot names)");
      }
      if (std::find(offered.begin(), offered.end(), f.alg) == offered.end()) {
        return Status::InvalidArgument(from + ": '" + f.name + "': algorithm '" + f.alg +
                                       "' is not offered by the digest plugin");
      }
      std::string name = f.name;
      next->files.emplace(std::move(name), std::make_shared<const ChunkedFile>(std::move(f)));
    }
    std::size_t n = next->files.size();
    {
      std::lock_guard<std::mutex> g(state_mu_);
      index_ = std::move(next);
      index_ok_ = true;
      index_note_ = std::to_string(n) + " files in the index from " + from;
    }
    index_files_.set(static_cast<double>(n));
    log_.info("index: " + std::to_string(n) + " files from " + from);
    return Status::Ok();
  }

  void keep_index(const std::string& text) {
    std::string path = cache_dir_ + "/index.json", tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) {
        log_.warn("cannot keep the index in '" + path + "'");
        return;
      }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) log_.warn("cannot keep the index in '" + path + "': " + ec.message());
  }

  Status load_kept_index() {
    std::string path = cache_dir_ + "/index.json";
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::NotFound("no index kept in '" + path + "'");
    std::ostringstream s;
    s << in.rdbuf();
    Status st = install_index(s.str(), "'" + path + "' (kept; the origin is unreachable)");
    return st;
  }

  void refresh_loop() {
    std::unique_lock<std::mutex> l(state_mu_);
    while (!stopping_) {
      state_cv_.wait_for(l, std::chrono::seconds(refresh_s_), [&] { return stopping_; });
      if (stopping_) break;
      l.unlock();
      Status st = refresh_index();
      if (!st.ok()) log_.warn("index refresh failed; keeping the index in use: " + st.message());
      l.lock();
    }
  }

  HostServices& host_;
  Logger& log_;
  Counter& hits_;
  Counter& misses_;
  Counter& origin_bytes_;
  Counter& verify_failures_;
  Counter& origin_errors_;
  Gauge& index_files_;

  std::string origin_, index_url_, cache_dir_;
  std::uint64_t cache_max_bytes_ = 0;
  std::int64_t refresh_s_ = 60;
  std::unique_ptr<OriginClient> origin_client_;
  Digest* digest_ = nullptr;
  std::unique_ptr<ChunkCache> cache_;
  bool curl_ready_ = false;

  // index_ok_: an index is in use (from the origin or kept): the plugin serves, so it is healthy
  // even while the origin is gone (index_note_ says so). Guards index_, index_ok_, index_note_,
  // stopping_.
  mutable std::mutex state_mu_;
  std::condition_variable state_cv_;
  std::shared_ptr<const IndexSnapshot> index_ = std::make_shared<const IndexSnapshot>();
  bool index_ok_ = false;
  std::string index_note_ = "no index yet";
  bool stopping_ = false;
  std::thread refresher_;

  std::mutex log_mu_;
  LogThrottle log_budget_{std::chrono::seconds(10), 20};

  std::mutex flights_mu_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
};

Result<std::size_t> HttpHandle::read_at(std::uint64_t offset, void* buf, std::size_t len) noexcept {
  return guard("storage-http: read", [&] { return storage_.read(*file_, offset, buf, len); });
}

}  // namespace
}  // namespace dfd::storage_http

static const dfd::PluginKind kStorageHttpNeeds[] = {dfd::PluginKind::kDigest};
DFD_PLUGIN(dfd::PluginKind::kStorage, "storage-http", "1.0.0",
           "Pull-through cache of an HTTP(S) origin: chunks verified against the origin's index",
           kStorageHttpNeeds, 1, &dfd::create_plugin<dfd::storage_http::HttpStorage>,
           &dfd::destroy_plugin<dfd::storage_http::HttpStorage>)
