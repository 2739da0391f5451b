// The file server role: ContentIndex + DataPlane + the broker side (token events in, availability
// and heartbeats out). See content_service.hpp and docs/file-server.md.
#include "content/content_service.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "content/access_log.hpp"
#include "content/content_index.hpp"
#include "content/data_plane.hpp"
#include "content/listener.hpp"
#include "dfd/abi.hpp"
#include "dfd/creatable_file.hpp"
#include "dfd/events.hpp"
#include "suggest.hpp"
#include "tls_files.hpp"

namespace dfd::host {

// ------------------------------------------------------------------------------------ options

namespace {

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

struct ContentTableReader {
  const toml::table& t;
  const std::string& file;

  std::string at(const toml::node* n) const {
    auto line = n ? n->source().begin.line : t.source().begin.line;
    return file + ":" + std::to_string(line) + ": [content] key '";
  }
  Status error(const std::string& key, const std::string& what) const {
    return Status::InvalidArgument(at(t.get(key)) + key + "': " + what);
  }
  Status get_string(const std::string& key, std::string& out) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    if (!n->is_string()) return error(key, "expected a string, got " + type_name(*n));
    out = n->as_string()->get();
    return Status::Ok();
  }
  template <typename T>
  Status get_int(const std::string& key, T& out, std::int64_t min, std::int64_t max) const {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    if (!n->is_integer()) return error(key, "expected an integer, got " + type_name(*n));
    std::int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      return error(key, std::to_string(v) + " is out of range [" + std::to_string(min) + ", " +
                            std::to_string(max) + "]");
    }
    out = static_cast<T>(v);
    return Status::Ok();
  }
};

}  // namespace

Result<ContentOptions> parse_content_options(const toml::table& table, const std::string& file) {
  return guard("[content]", [&]() -> Result<ContentOptions> {
    static const std::vector<std::string> kKeys = {"listen",
                                                   "public_url",
                                                   "threads",
                                                   "chunk_size",
                                                   "digest",
                                                   "index_db",
                                                   "token_wait_ms",
                                                   "rescan_interval_s",
                                                   "heartbeat_interval_ms",
                                                   "idle_timeout_s",
                                                   "send_timeout_s",
                                                   "max_ranges",
                                                   "header_timeout_s",
                                                   "max_connections",
                                                   "max_connections_per_address",
                                                   "max_parked",
                                                   "max_parked_per_address",
                                                   "auth",
                                                   "tls",
                                                   "tls_cert",
                                                   "tls_key",
                                                   "access_log"};
    ContentTableReader r{table, file};
    for (const auto& [k, node] : table) {
      std::string key(k.str());
      if (std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end()) continue;
      return Status::InvalidArgument(file + ":" + std::to_string(node.source().begin.line) +
                                     ": [content] unknown key '" + key + "'" +
                                     did_you_mean(key, kKeys));
    }
    ContentOptions o;
    DFD_RETURN_IF_ERROR(r.get_string("listen", o.listen));
    // The address the data plane binds at start, judged here (issue 14: --check refuses a host
    // name, which passed the old HOST:PORT test and failed only at start).
    if (Status st = check_listen_address(o.listen); !st.ok())
      return r.error("listen", st.message());
    DFD_RETURN_IF_ERROR(r.get_string("public_url", o.public_url));
    if (!o.public_url.empty() && o.public_url.rfind("http://", 0) != 0 &&
        o.public_url.rfind("https://", 0) != 0) {
      return r.error("public_url", "'" + o.public_url + "' must start with http:// or https://");
    }
    while (!o.public_url.empty() && o.public_url.back() == '/') o.public_url.pop_back();
    DFD_RETURN_IF_ERROR(r.get_int("threads", o.threads, 1, 256));
    DFD_RETURN_IF_ERROR(r.get_int("chunk_size", o.chunk_size, 1, std::int64_t{1} << 40));
    DFD_RETURN_IF_ERROR(r.get_string("digest", o.digest));
    if (o.digest.empty()) return r.error("digest", "must not be empty");
    DFD_RETURN_IF_ERROR(r.get_string("index_db", o.index_db));
    DFD_RETURN_IF_ERROR(r.get_int("token_wait_ms", o.token_wait_ms, 0, 600000));
    DFD_RETURN_IF_ERROR(r.get_int("rescan_interval_s", o.rescan_interval_s, 0, 7 * 86400));
    DFD_RETURN_IF_ERROR(r.get_int("heartbeat_interval_ms", o.heartbeat_interval_ms, 50, 3600000));
    DFD_RETURN_IF_ERROR(r.get_int("idle_timeout_s", o.idle_timeout_s, 1, 86400));
    DFD_RETURN_IF_ERROR(r.get_int("send_timeout_s", o.send_timeout_s, 1, 86400));
    DFD_RETURN_IF_ERROR(r.get_int("max_ranges", o.max_ranges, 1, 1000));
    DFD_RETURN_IF_ERROR(r.get_int("header_timeout_s", o.header_timeout_s, 1, 3600));
    DFD_RETURN_IF_ERROR(r.get_int("max_connections", o.max_connections, 0, 10000000));
    DFD_RETURN_IF_ERROR(
        r.get_int("max_connections_per_address", o.max_connections_per_address, 1, 10000000));
    DFD_RETURN_IF_ERROR(r.get_int("max_parked", o.max_parked, 1, 10000000));
    DFD_RETURN_IF_ERROR(r.get_int("max_parked_per_address", o.max_parked_per_address, 1, 10000000));
    DFD_RETURN_IF_ERROR(r.get_string("auth", o.auth));
    // Like [server]'s: relative to the config file's directory, checked by building the TLS
    // context once (tls_files.hpp), so a refusal names file:line:key.
    for (auto [key, out] :
         {std::pair<const char*, std::string*>{"tls_cert", &o.tls_cert}, {"tls_key", &o.tls_key}}) {
      DFD_RETURN_IF_ERROR(r.get_string(key, *out));
      if (table.get(key) && out->empty()) return r.error(key, "must not be empty");
      if (!out->empty()) {
        *out = (std::filesystem::absolute(file).parent_path() / *out).lexically_normal().string();
      }
    }
    if (o.tls_cert.empty() != o.tls_key.empty()) {
      const char* missing = o.tls_cert.empty() ? "tls_cert" : "tls_key";
      const char* given = o.tls_cert.empty() ? "tls_key" : "tls_cert";
      return r.error(given, std::string("needs '") + missing + "' too");
    }
    if (!o.tls_cert.empty()) {
      TlsRefusal refusal;
      if (!make_server_tls_context({o.tls_cert, o.tls_key, ""}, &refusal)) {
        return r.error(refusal.key, refusal.message);
      }
    }
    if (const toml::node* n = table.get("tls")) {
      if (!n->is_boolean()) return r.error("tls", "expected a boolean, got " + type_name(*n));
      o.tls_off = !n->as_boolean()->get();
    }
    // Issue 14: checked without creating anything (--check has no side effects).
    // "" (e.g. "${DFD_ACCESS_LOG:-}" unset) = none.
    DFD_RETURN_IF_ERROR(r.get_string("access_log", o.access_log));
    if (!o.access_log.empty()) {
      if (o.access_log != "-") {
        o.access_log =
            (std::filesystem::absolute(file).parent_path() / o.access_log).lexically_normal();
        Status st = check_creatable_file(o.access_log);  // missing folders: made at start
        if (!st.ok()) return r.error("access_log", st.message());
      }
    }
    return o;
  });
}

Status resolve_content_tls(ContentOptions& o, const std::string& server_cert,
                           const std::string& server_key, const toml::table& table,
                           const std::string& file) {
  ContentTableReader r{table, file};
  if (o.tls_off) return Status::Ok();
  if (o.tls_cert.empty()) {
    o.tls_cert = server_cert;
    o.tls_key = server_key;
  }
  const toml::node* on = table.get("tls");
  if (on && on->value_or(false) && o.tls_cert.empty()) {
    return r.error("tls", "is true but neither [content] nor [server] has tls_cert and tls_key");
  }
  return Status::Ok();
}

Status check_content_digest(const ContentOptions& o, const Digest& digest,
                            const std::string& digest_name, const toml::table& table,
                            const std::string& file) {
  return guard("[content]", [&]() -> Status {
    auto lower = [](std::string s) {
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    std::vector<std::string> offered = digest.algorithms();
    std::string list;
    for (const auto& a : offered) {
      if (lower(a) == lower(o.digest)) return Status::Ok();
      list += (list.empty() ? "" : ", ") + a;
    }
    return ContentTableReader{table, file}.error(
        "digest", "'" + o.digest + "' is not offered by " + digest_name + " (it offers " +
                      (list.empty() ? std::string("nothing") : list) + ")");
  });
}

std::string index_db_path(const ContentOptions& o, const std::string& state_dir) {
  if (!o.index_db.empty() || state_dir.empty()) return o.index_db;
  return state_dir + "/index.db";
}

Status check_content_paths(const ContentOptions& o, const std::string& state_dir,
                           const toml::table& table, const std::string& file) {
  std::string db = index_db_path(o, state_dir);
  if (db.empty()) return Status::Ok();
  Status st = check_creatable_file(db);
  return st.ok() ? st : ContentTableReader{table, file}.error("index_db", st.message());
}

// ------------------------------------------------------------------------------------ service

namespace {

constexpr auto kPublishTimeout = std::chrono::milliseconds(2000);
constexpr int kRepublishEvery = 15;  // heartbeats

// The data plane's view of the index and the storage.
class IndexSource : public ContentSource {
 public:
  IndexSource(ContentIndex& index, Storage& storage) : index_(index), storage_(storage) {}
  std::shared_ptr<const IndexedFile> find(const std::string& uid) const noexcept override {
    return index_.find(uid);
  }
  Result<std::unique_ptr<ReadHandle>> open(const IndexedFile& f) noexcept override {
    return storage_.open(f.path);
  }

 private:
  ContentIndex& index_;
  Storage& storage_;
};

// Lets broker callbacks reach the service only while it runs (Broker has no unsubscribe).
struct EventGate {
  mutable std::mutex mu;
  std::function<Status(std::string_view, std::string_view)> target;  // empty once stopped
};

}  // namespace

struct ContentService::Impl {
  Impl(ContentContext c, ContentOptions o) : ctx(c), opt(std::move(o)) {}

  ContentContext ctx;
  ContentOptions opt;
  std::unique_ptr<ContentIndex> index;
  std::unique_ptr<IndexSource> source;
  std::unique_ptr<DataPlane> plane;
  std::shared_ptr<EventGate> gate = std::make_shared<EventGate>();
  std::string url;
  std::atomic<bool> started{false};
  std::atomic<std::int64_t> files{0};
  std::string last_error;  // guarded by mu

  // Control thread: rescans, publishing, heartbeats.
  std::thread control;
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;
  bool rescan_requested = false;
  // Rescans asked for (request_rescan's tickets) and the last ticket a finished rescan covered.
  std::uint64_t rescan_tickets = 0;
  std::uint64_t rescan_tickets_done = 0;
  // Publishing state (control thread only).
  std::map<std::string, std::shared_ptr<const IndexedFile>> pending_available;
  std::set<std::string> pending_removed;
  bool publish_failing = false;
  std::int64_t beats = 0;

  Status on_event(std::string_view key, std::string_view body) {
    if (key == events::kTokenIssued) {
      // One record or a batch (the info server groups tokens issued at the same moment).
      std::vector<Status> skipped;
      auto recs = events::decode_token_issued_batch(body, &skipped);
      // A malformed event is kInvalidArgument: the broker rejects it once, counts it and logs it
      // rate-limited (sdk/include/dfd/broker.hpp); logging it here too would let a publisher
      // flood the log.
      if (!recs.ok()) return recs.status();
      if (!skipped.empty()) {
        ctx.log.warn("ignored " + std::to_string(skipped.size()) +
                     " malformed record(s) of a token.issued event (first: " +
                     skipped.front().message() + ")");
      }
      // One call for the whole event (a store writes it in one transaction). Remembering is
      // idempotent: on an error the whole event is redelivered.
      if (!recs->empty()) {
        DFD_RETURN_IF_ERROR(ctx.auth.remember_download_tokens(recs->data(), recs->size()));
      }
    } else if (key == events::kTokenRevoked) {
      auto hash = events::decode_token_revoked(body);
      if (!hash.ok()) return hash.status();  // rejected once by the broker, as above
      DFD_RETURN_IF_ERROR(ctx.auth.revoke_download_token(*hash));
    } else {
      return Status::Ok();
    }
    if (plane) plane->notify_tokens_changed();
    return Status::Ok();
  }

  void apply_changes(const IndexChanges& ch) {
    for (const auto& f : ch.removed) {
      pending_available.erase(f->uid);
      pending_removed.insert(f->uid);
    }
    for (const auto& f : ch.added) {
      pending_removed.erase(f->uid);
      pending_available[f->uid] = f;
    }
    files.store(static_cast<std::int64_t>(index->size()));
    ctx.metrics.gauge("dfd_content_files", "Files indexed and served by this file server")
        .set(static_cast<double>(index->size()));
  }

  void do_rescan() {
    auto t0 = std::chrono::steady_clock::now();
    auto ch = index->rescan();
    if (!ch.ok()) {
      ctx.log.error("rescan failed: " + ch.status().to_string());
      std::lock_guard<std::mutex> g(mu);
      last_error = ch.status().to_string();
      return;
    }
    {
      std::lock_guard<std::mutex> g(mu);
      last_error.clear();
    }
    apply_changes(*ch);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    if (!ch->added.empty() || !ch->removed.empty()) {
      ctx.log.info("rescan: " + std::to_string(ch->added.size()) + " added, " +
                   std::to_string(ch->removed.size()) + " removed, " +
                   std::to_string(index->size()) + " files (" + std::to_string(ms.count()) +
                   " ms)");
    }
  }

  events::FileAvailable available_event(const IndexedFile& f) const {
    events::FileAvailable e;
    e.server_id = ctx.server.id;
    e.zone = ctx.server.zone;
    e.url = url;
    e.uid = f.uid;
    e.name = f.path;
    e.size = f.size;
    e.alg = f.alg;
    e.chunk_size = f.chunk_size;
    e.chunks = f.chunks;
    return e;
  }

  bool publish(std::string_view key, const std::string& body) {
    Status s = ctx.broker->publish(key, body, kPublishTimeout);
    if (s.ok()) {
      if (publish_failing) ctx.log.info("publishing works again");
      publish_failing = false;
      return true;
    }
    if (!publish_failing) {
      ctx.log.warn("publish " + std::string(key) +
                   " failed (will retry on the next heartbeat): " + s.to_string());
    }
    publish_failing = true;
    return false;
  }

  // Publishes what is pending; stops at the first failure (the rest waits for the next beat).
  void flush_pending() {
    while (!pending_removed.empty()) {
      const std::string uid = *pending_removed.begin();
      if (!publish(events::server_routing_key(events::kFileRemoved, ctx.server.id),
                   events::encode_file_removed({ctx.server.id, uid}))) {
        return;
      }
      pending_removed.erase(uid);
    }
    while (!pending_available.empty()) {
      auto it = pending_available.begin();
      if (!publish(events::server_routing_key(events::kFileAvailable, ctx.server.id),
                   events::encode_file_available(available_event(*it->second)))) {
        return;
      }
      pending_available.erase(it);
    }
  }

  void heartbeat() {
    ++beats;
    if (beats % kRepublishEvery == 0) {
      for (const auto& f : index->all()) pending_available[f->uid] = f;
    }
    flush_pending();
    events::Heartbeat h;
    h.server_id = ctx.server.id;
    h.zone = ctx.server.zone;
    h.url = url;
    h.interval_ms = opt.heartbeat_interval_ms;
    h.files = static_cast<std::int64_t>(index->size());
    publish(events::server_routing_key(events::kServerHeartbeat, ctx.server.id),
            events::encode_heartbeat(h));
  }

  void run_control() {
    using Clock = std::chrono::steady_clock;
    auto beat_every = std::chrono::milliseconds(opt.heartbeat_interval_ms);
    auto rescan_every = std::chrono::seconds(opt.rescan_interval_s);
    auto next_beat = Clock::now();
    auto next_rescan =
        opt.rescan_interval_s > 0 ? Clock::now() + rescan_every : Clock::time_point::max();
    std::unique_lock<std::mutex> lk(mu);
    while (!stop_requested) {
      auto wake = std::min(ctx.broker ? next_beat : Clock::time_point::max(), next_rescan);
      if (!rescan_requested) {
        if (wake == Clock::time_point::max()) {
          cv.wait(lk, [&] { return stop_requested || rescan_requested; });
        } else {
          cv.wait_until(lk, wake, [&] { return stop_requested || rescan_requested; });
        }
      }
      if (stop_requested) break;
      bool rescan_now = rescan_requested || Clock::now() >= next_rescan;
      rescan_requested = false;
      std::uint64_t covers = rescan_tickets;  // every ticket issued before this scan began
      lk.unlock();
      if (rescan_now) {
        do_rescan();
        if (opt.rescan_interval_s > 0) next_rescan = Clock::now() + rescan_every;
        if (ctx.broker) flush_pending();
        std::lock_guard<std::mutex> g(mu);
        rescan_tickets_done = std::max(rescan_tickets_done, covers);
      }
      if (ctx.broker && Clock::now() >= next_beat) {
        heartbeat();
        next_beat += beat_every;
        if (next_beat < Clock::now()) next_beat = Clock::now() + beat_every;
      }
      lk.lock();
    }
  }
};

ContentService::ContentService(ContentContext ctx, ContentOptions options)
    : impl_(std::make_unique<Impl>(ctx, std::move(options))) {}

ContentService::~ContentService() {
  stop(0);
}

Status ContentService::start() noexcept {
  return guard("[content]", [&]() -> Status {
    Impl& m = *impl_;
    if (m.started.load()) return Status::FailedPrecondition("already started");
    ContentIndexOptions io;
    io.chunk_size = m.opt.chunk_size;
    io.algorithm = m.opt.digest;
    io.db_path = index_db_path(m.opt, m.ctx.server.state_dir);
    io.storage_knows_digests =
        m.ctx.storage_abi_minor >= kAbiMinorKnownDigests;  // issue 15: Storage::known_digests
    m.index =
        std::make_unique<ContentIndex>(m.ctx.storage, m.ctx.digest, m.ctx.log, m.ctx.metrics, io);
    DFD_RETURN_IF_ERROR(m.index->open().with_context("content index '" + io.db_path + "'"));
    auto t0 = std::chrono::steady_clock::now();
    auto ch = m.index->rescan();
    if (!ch.ok()) return ch.status().with_context("indexing the storage");
    m.apply_changes(*ch);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    m.ctx.log.info("indexed " + std::to_string(m.index->size()) + " file(s) in " +
                   std::to_string(ms.count()) + " ms");

    m.source = std::make_unique<IndexSource>(*m.index, m.ctx.storage);
    DataPlaneOptions dp;
    dp.listen = m.opt.listen;
    dp.threads = m.opt.threads;
    dp.token_wait_ms = m.opt.token_wait_ms;
    dp.idle_timeout_s = m.opt.idle_timeout_s;
    dp.send_timeout_s = m.opt.send_timeout_s;
    dp.max_ranges = m.opt.max_ranges;
    dp.header_timeout_s = m.opt.header_timeout_s;
    dp.max_connections = m.opt.max_connections;
    dp.max_connections_per_address = m.opt.max_connections_per_address;
    dp.max_parked = m.opt.max_parked;
    dp.max_parked_per_address = m.opt.max_parked_per_address;
    dp.access_log = m.opt.access_log;
    if (m.opt.tls()) {
      dp.tls_cert = m.opt.tls_cert;
      dp.tls_key = m.opt.tls_key;
    }
    m.plane = std::make_unique<DataPlane>(m.ctx.log, m.ctx.metrics, m.ctx.auth, *m.source, dp);
    DFD_RETURN_IF_ERROR(m.plane->start());
    m.url = m.opt.public_url.empty() ? m.opt.url_at(m.plane->bound_address()) : m.opt.public_url;
    if (m.opt.tls() && m.url.rfind("http://", 0) == 0) {
      m.ctx.log.warn("[content] public_url '" + m.url +
                     "' says http:// but the data plane serves only TLS (set tls = false for "
                     "plain HTTP)");
    }

    if (m.ctx.broker) {
      {
        std::lock_guard<std::mutex> g(m.gate->mu);
        m.gate->target = [&m](std::string_view k, std::string_view b) { return m.on_event(k, b); };
      }
      std::weak_ptr<EventGate> weak = m.gate;
      Status s = m.ctx.broker->subscribe(
          {std::string(events::kTokenIssued), std::string(events::kTokenRevoked)},
          [weak](std::string_view key, std::string_view body) -> Status {
            auto gate = weak.lock();
            if (!gate) return Status::Unavailable("file server stopped");
            std::lock_guard<std::mutex> g(gate->mu);
            if (!gate->target) return Status::Unavailable("file server stopped");
            return gate->target(key, body);
          });
      if (!s.ok()) {
        if (m.ctx.auth.needs_token_events()) {
          m.plane->stop(0);
          return s.with_context("subscribing to token events");
        }
        m.ctx.log.warn("cannot subscribe to token events (revocations will not apply): " +
                       s.to_string());
      }
    } else if (m.ctx.auth.needs_token_events()) {
      m.ctx.log.warn(
          "the auth plugin learns tokens through events but no broker is loaded: "
          "only tokens stored locally will be accepted");
    }
    {
      std::lock_guard<std::mutex> g(m.mu);
      m.stop_requested = false;
    }
    m.control = std::thread([&m] { m.run_control(); });
    m.started.store(true);
    return Status::Ok();
  });
}

void ContentService::stop(int grace_ms) noexcept {
  Impl& m = *impl_;
  if (!m.started.exchange(false)) return;
  {
    std::lock_guard<std::mutex> g(m.gate->mu);  // waits for a handler in progress
    m.gate->target = nullptr;
  }
  {
    std::lock_guard<std::mutex> g(m.mu);
    m.stop_requested = true;
  }
  m.cv.notify_all();
  if (m.control.joinable()) m.control.join();
  if (m.plane) m.plane->stop(grace_ms);
}

void ContentService::rescan() noexcept {
  request_rescan();
}

std::uint64_t ContentService::request_rescan() noexcept {
  Impl& m = *impl_;
  if (!m.started.load()) return 0;
  std::uint64_t ticket;
  {
    std::lock_guard<std::mutex> g(m.mu);
    m.rescan_requested = true;
    ticket = ++m.rescan_tickets;
  }
  m.cv.notify_all();
  return ticket;
}

bool ContentService::rescan_finished(std::uint64_t ticket) const noexcept {
  const Impl& m = *impl_;
  std::lock_guard<std::mutex> g(m.mu);
  return m.rescan_tickets_done >= ticket;
}

Health ContentService::health() const noexcept {
  const Impl& m = *impl_;
  if (!m.started.load() || !m.plane || !m.plane->running())
    return {false, "file server not running"};
  std::string err;
  {
    std::lock_guard<std::mutex> g(m.mu);
    err = m.last_error;
  }
  std::string detail = std::to_string(m.files.load()) + " file(s), " +
                       std::to_string(m.plane->active_connections()) + " connection(s) on " +
                       m.plane->bound_address();
  if (!err.empty()) return {false, detail + "; last rescan failed: " + err};
  return {true, detail};
}

std::string ContentService::bound_address() const {
  return impl_->plane ? impl_->plane->bound_address() : std::string();
}

std::string ContentService::public_url() const {
  return impl_->url;
}

}  // namespace dfd::host
