#include "downloader.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <list>
#include <memory>
#include <mutex>

#include "chunk_planner.hpp"
#include "curl_policy.hpp"
#include "hash_worker.hpp"
#include "hasher.hpp"
#include "part_file.hpp"
#include "prefix_hasher.hpp"
#include "server_pacer.hpp"
#include "state_file.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
using Clock = std::chrono::steady_clock;

double secs(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Why a request ended without a verified chunk.
enum class Fault {
  kNone,
  kTransport,  // connect error, reset, timeout, stall, 5xx, short body: back off, retry elsewhere
  kStrike,     // wrong status/Content-Range/length/digest: the server misbehaves
  kAuth,       // 401/403: renew the download token once
  kLocal,      // our own disk/file error: fatal
  kCanceled,   // we cancelled it (another copy won, or shutdown)
};

// Largest single pwrite. Linux (6.x, ext4 and others with large folios) sizes the page-cache
// folios a write allocates by the write's length. Folios above 32 KiB (order > 3) come straight
// from the buddy allocator's high-order free blocks, which are exactly the blocks a VM with free
// page reporting has handed back to its hypervisor: the first touch of each page then costs a
// host fault, and a 1 GiB download spent 1-2 s more system time in the page-cache copy. Folios of
// at most 32 KiB come from per-CPU lists of recently freed pages. Measured on this project's VMs,
// 1 GiB after memory was touched, freed and left for 6 s (as bench/download-vs-aria2c --memory
// cold does): 256 KiB writes 1.56-2.19 s, 32 KiB pieces 1.00-1.05 s; no difference beyond noise
// when memory is warm.
constexpr std::size_t kWritePiece = 32u << 10;

int pwrite_all(int fd, const char* p, std::size_t n, std::uint64_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, std::min(n, kWritePiece), static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    p += w;
    n -= static_cast<std::size_t>(w);
    off += static_cast<std::uint64_t>(w);
  }
  return 0;
}

std::string io_message(const std::string& what, const std::string& path, int err) {
  std::string m = what + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) m += " (disk full or file size limit)";
  return m;
}
}  // namespace

struct Downloader::Impl {
  struct Server {
    Location loc;
    ServerReport rep;
    std::size_t active = 0;
    int consecutive_failures = 0;
    Clock::time_point backoff_until{};
    double ema_chunk_s = 0;  // smoothed seconds per full chunk on this server
  };

  struct Transfer {
    Impl* owner = nullptr;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    int server = -1;
    std::size_t chunk = 0;
    bool duplicate = false;  // second copy: bytes kept in `buffer`, written only if it wins
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::uint64_t received = 0;
    std::shared_ptr<HashWorker::Stream> digest;  // computed by `worker` from copies of the bytes
    bool slot_freed = false;    // body done, digest pending: the server slot was given back already
    char* block = nullptr;      // HashWorker block being filled with the next bytes
    std::size_t fill = 0;       // bytes in `block`
    std::uint64_t flushed = 0;  // bytes already written (or buffered) and submitted for hashing
    std::string buffer;
    long status = 0;
    std::string content_range;
    HeaderBudget header_bytes;
    bool checked = false;
    Fault fault = Fault::kNone;
    std::string why;
    int io_error = 0;
    std::string token;
    Clock::time_point start;
    Clock::time_point last_data;
    char errbuf[CURL_ERROR_SIZE] = {0};
  };

  Manifest m;
  DownloadOptions o;
  DownloadReport rep;
  std::string part_path, state_path;
  int fd = -1;
  CURLM* multi = nullptr;
  std::vector<Server> servers;
  std::list<std::unique_ptr<Transfer>> transfers;
  std::list<std::unique_ptr<Transfer>> verifying;  // complete bodies waiting for their digest
  std::unique_ptr<HashWorker> worker;
  std::unique_ptr<ChunkPlanner> planner;
  ServerPacer pacer;  // per-server rates: how many chunks each may hold (server_pacer.hpp)
  std::unique_ptr<PrefixHasher> prefix;
  std::string token;
  std::size_t cap = 8;
  std::size_t max_duplicates = 4;
  std::size_t active_duplicates = 0;
  std::size_t fetched_this_attempt = 0;
  bool fatal = false;
  int fatal_code = 0;
  std::string fatal_msg;
  bool state_dirty = false;
  std::size_t rr = 0;
  std::deque<int> prefer;  // servers that just freed a slot get the next chunk first
  // speed estimate
  std::deque<std::pair<Clock::time_point, std::uint64_t>> samples;

  Impl(Manifest mf, DownloadOptions op) : m(std::move(mf)), o(std::move(op)) {}

  ~Impl() {
    for (auto& t : transfers) destroy_easy(*t);
    transfers.clear();
    verifying.clear();
    worker.reset();
    prefix.reset();
    if (multi) curl_multi_cleanup(multi);
    if (fd >= 0) ::close(fd);
  }

  void destroy_easy(Transfer& t) {
    if (t.block) {
      worker->release(t.block);
      t.block = nullptr;
      t.fill = 0;
    }
    if (t.easy) {
      curl_multi_remove_handle(multi, t.easy);
      curl_easy_cleanup(t.easy);
      t.easy = nullptr;
    }
    if (t.headers) {
      curl_slist_free_all(t.headers);
      t.headers = nullptr;
    }
  }

  void fail_fatal(int code, std::string msg) {
    if (fatal) return;
    fatal = true;
    fatal_code = code;
    fatal_msg = std::move(msg);
  }

  // ---------------------------------------------------------------- callbacks (loop thread)
  static size_t on_header(char* p, size_t sz, size_t n, void* ud) {
    auto* t = static_cast<Transfer*>(ud);
    std::string_view line(p, sz * n);
    if (!t->header_bytes.add(line.size())) {
      t->fault = Fault::kStrike;
      t->why = "response headers larger than " + std::to_string(kMaxHeaderBytes >> 10) + " KiB";
      return 0;
    }
    if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
      t->status = 0;
      t->content_range.clear();
      auto sp = line.find(' ');
      if (sp != std::string_view::npos)
        t->status = std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    } else {
      auto colon = line.find(':');
      if (colon != std::string_view::npos && lower(line.substr(0, colon)) == "content-range") {
        std::string v(line.substr(colon + 1));
        while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
        t->content_range = v;
      }
    }
    return sz * n;
  }

  static size_t on_body(char* p, size_t sz, size_t n, void* ud) {
    auto* t = static_cast<Transfer*>(ud);
    return t->owner->body(*t, p, sz * n);
  }

  size_t body(Transfer& t, const char* p, size_t n) {
    if (!t.checked) {
      if (t.status != 206) {
        t.fault = (t.status == 401 || t.status == 403)   ? Fault::kAuth
                  : (t.status >= 500 || t.status == 429) ? Fault::kTransport
                                                         : Fault::kStrike;
        t.why = "HTTP " + std::to_string(t.status) + " instead of 206";
        return 0;
      }
      auto cr = parse_content_range(t.content_range);
      if (!cr || cr->first != t.offset || cr->last != t.offset + t.length - 1 ||
          (cr->total && *cr->total != m.size)) {
        t.fault = Fault::kStrike;
        t.why = "Content-Range '" + printable(t.content_range) + "' does not match bytes " +
                std::to_string(t.offset) + "-" + std::to_string(t.offset + t.length - 1) + "/" +
                std::to_string(m.size);
        return 0;
      }
      t.checked = true;
    }
    if (t.received + n > t.length) {
      t.fault = Fault::kStrike;
      t.why = "sent more bytes than the range asked for";
      return 0;
    }
    // libcurl delivers at most 16 KiB per call: gather into a block and write/hash whole blocks
    // (16x fewer pwrite calls and worker hand-offs).
    for (std::size_t left = n, k = 0; left > 0; left -= k) {
      if (!t.block) {
        t.block = worker->acquire();
        t.fill = 0;
      }
      k = std::min(left, HashWorker::kBlock - t.fill);
      std::memcpy(t.block + t.fill, p + (n - left), k);
      t.fill += k;
      if (t.fill == HashWorker::kBlock) {
        if (int e = flush(t)) {
          t.fault = Fault::kLocal;
          t.io_error = e;
          t.why = io_message("cannot write", part_path, e);
          return 0;
        }
      }
    }
    t.received += n;
    rep.bytes_received += n;
    pacer.on_bytes(static_cast<std::size_t>(t.server), n);
    t.last_data = Clock::now();
    return n;
  }

  // Writes the filled part of t's block at its offset (a duplicate keeps it in memory) and hands
  // the block to the worker for hashing. Returns 0 or errno (the block stays with t).
  int flush(Transfer& t) {
    if (!t.block || t.fill == 0) return 0;
    if (t.duplicate) {
      t.buffer.append(t.block, t.fill);
    } else if (int e = pwrite_all(fd, t.block, t.fill, t.offset + t.flushed)) {
      return e;
    }
    worker->submit(t.digest, t.block, t.fill);
    t.flushed += t.fill;
    t.block = nullptr;
    t.fill = 0;
    return 0;
  }

  // ---------------------------------------------------------------- scheduling
  bool usable(const Server& s, Clock::time_point now) const {
    return !s.rep.dropped && now >= s.backoff_until;
  }

  Transfer* find_copy(std::size_t chunk, int server) {
    for (auto& t : transfers)
      if (t->chunk == chunk && t->server == server && t->easy) return t.get();
    return nullptr;
  }

  void start(int si, std::size_t chunk, bool duplicate, Clock::time_point now) {
    auto& s = servers[static_cast<std::size_t>(si)];
    auto t = std::make_unique<Transfer>();
    t->owner = this;
    t->server = si;
    t->chunk = chunk;
    t->duplicate = duplicate;
    t->offset = m.chunk_offset(chunk);
    t->length = m.chunk_length(chunk);
    t->digest = worker->open(m.alg);
    t->token = token;
    t->start = t->last_data = now;
    if (duplicate) t->buffer.reserve(static_cast<std::size_t>(t->length));
    CURL* e = curl_easy_init();
    if (!e) {
      planner->release(chunk, si);
      fail_fatal(exit_code::kFailure, "cannot create a libcurl handle");
      return;
    }
    t->easy = e;
    std::string url = s.loc.url + "/v1/content/" + m.uid;
    std::string range = std::to_string(t->offset) + "-" + std::to_string(t->offset + t->length - 1);
    t->headers = curl_slist_append(t->headers, ("Authorization: Bearer " + token).c_str());
    t->headers = curl_slist_append(t->headers, "Connection: keep-alive");
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    apply_curl_policy(e);  // http and https only, also for redirects
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
    if (o.min_speed > 0) {
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, o.min_speed);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.min_speed_time.count()));
    }
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_USERAGENT, "dfd/0.1");
    if (curl_multi_add_handle(multi, e) != CURLM_OK) {
      destroy_easy(*t);
      planner->release(chunk, si);
      fail_fatal(exit_code::kFailure, "cannot start a transfer (libcurl)");
      return;
    }
    ++s.active;
    ++s.rep.requests;
    if (duplicate) {
      ++active_duplicates;
      ++rep.duplicates;
    }
    transfers.push_back(std::move(t));
  }

  // A copy that has received no byte for o.silent_after (default 300 ms) is silent (a stopped or
  // stuck server; a healthy one on loopback or a LAN sends within milliseconds): another server
  // may take a second copy of its chunk at once, not only in the end game, and its server gets no
  // new chunk while it is silent. The stall timeout (longer) still ends the copy itself.
  bool silent(const Transfer& t, Clock::time_point now) const {
    return t.easy && !t.slot_freed && now - t.last_data > o.silent_after;
  }

  bool has_silent_copy(int si, Clock::time_point now) const {
    return std::any_of(transfers.begin(), transfers.end(),
                       [&](const auto& t) { return t->server == si && silent(*t, now); });
  }

  // Is a second copy of `chunk` (held by `holder`) on server `idle` worth starting in the end
  // game? Only when the holder's copy looks slow: silent, or its expected remaining time is well
  // above what `idle` needs for a whole chunk (measured on its past chunks).
  bool worth_duplicating(std::size_t chunk, int holder, int idle, Clock::time_point now) {
    Transfer* t = find_copy(chunk, holder);
    if (!t) return false;
    if (silent(*t, now)) return true;
    double idle_chunk_s = servers[static_cast<std::size_t>(idle)].ema_chunk_s;
    if (idle_chunk_s <= 0) return false;  // nothing known about the idle server yet
    double elapsed = secs(now - t->start);
    if (t->received == 0) return elapsed > 2 * idle_chunk_s;
    double rate = static_cast<double>(t->received) / std::max(elapsed, 1e-3);
    double remaining = static_cast<double>(t->length - t->received) / rate;
    return remaining > 1.5 * idle_chunk_s + 0.02;
  }

  bool try_start_on(int si, Clock::time_point now) {
    auto& s = servers[static_cast<std::size_t>(si)];
    // A server whose last request failed gets one probe at a time until one succeeds.
    std::size_t limit = s.consecutive_failures > 0 ? 1 : o.per_server;
    if (hook_stop() || !usable(s, now) || s.active >= limit || has_silent_copy(si, now))
      return false;
    // First a chunk held by a silent copy elsewhere (lowest start first: it holds back the
    // verified prefix and so the whole-file digest), then a fresh chunk, then the end game.
    // A fresh chunk only if the server does not hold its share already (ServerPacer).
    if (active_duplicates < max_duplicates) {
      auto c = planner->assign_rescue(si, now, [&](std::size_t chunk, int holder) {
        const Transfer* t = find_copy(chunk, holder);
        return t && silent(*t, now);
      });
      if (c) {
        start(si, *c, true, now);
        return true;
      }
    }
    if (planner->unassigned() > 0 && !paced(si)) return false;
    if (auto c = planner->assign(si, now)) {
      start(si, *c, false, now);
      return true;
    }
    if (active_duplicates >= max_duplicates) return false;
    auto c = planner->assign_duplicate(si, now, [&](std::size_t chunk, int holder) {
      return worth_duplicating(chunk, holder, si, now);
    });
    if (!c) return false;
    start(si, *c, true, now);
    return true;
  }

  // What the pacer weighs: each server's backlog (bytes its copies in flight still owe), the
  // bytes of the download not yet received, and which servers are usable.
  struct Load {
    std::vector<std::uint64_t> backlog;
    std::uint64_t remaining = 0;
    std::vector<bool> usable;
  };
  Load load() const {
    Load l;
    l.backlog.assign(servers.size(), 0);
    l.usable.assign(servers.size(), false);
    for (const auto& t : transfers) {
      if (!t->easy || t->slot_freed) continue;
      std::uint64_t owed = t->length - std::min(t->received, t->length);
      l.remaining += owed;
      l.backlog[static_cast<std::size_t>(t->server)] += owed;
    }
    l.remaining += std::min<std::uint64_t>(m.size, planner->unassigned() * m.chunk_size);
    for (std::size_t i = 0; i < servers.size(); ++i) l.usable[i] = !servers[i].rep.dropped;
    return l;
  }

  // May server `si` take one more fresh chunk, given its measured rate and what it still owes
  // (ServerPacer)?
  bool paced(int si) const {
    Load l = load();
    auto i = static_cast<std::size_t>(si);
    return pacer.may_start(i, servers[i].active, l.backlog[i], m.chunk_size, l.remaining, l.usable);
  }

  // While unassigned chunks remain, an overcommitted server (ServerPacer) gives back its first
  // copy (not a second one) with the fewest bytes received; the chunk goes back to the queue for
  // a faster server.
  void give_back_overcommitted(Clock::time_point now) {
    if (planner->unassigned() == 0) return;
    Load l = load();
    for (std::size_t i = 0; i < servers.size(); ++i) {
      if (!pacer.overcommitted(i, servers[i].active, l.backlog[i], l.remaining, l.usable)) continue;
      Transfer* least = nullptr;
      for (auto& t : transfers) {
        if (t->easy && !t->slot_freed && !t->duplicate && t->server == static_cast<int>(i) &&
            (!least || t->received < least->received))
          least = t.get();
      }
      if (!least) continue;
      ++servers[i].rep.given_back;
      finish(*least, Fault::kCanceled, "", now);
    }
    transfers.remove_if([](const std::unique_ptr<Transfer>& t) { return t->easy == nullptr; });
  }

  void schedule(Clock::time_point now) {
    while (!prefer.empty() && transfers.size() < cap && !fatal) {
      int si = prefer.front();
      prefer.pop_front();
      try_start_on(si, now);
    }
    prefer.clear();
    bool progress = true;
    while (progress && transfers.size() < cap && !fatal) {
      progress = false;
      for (std::size_t k = 0; k < servers.size() && transfers.size() < cap && !fatal; ++k) {
        int si = static_cast<int>((rr + k) % servers.size());
        if (try_start_on(si, now)) progress = true;
      }
      rr = (rr + 1) % std::max<std::size_t>(servers.size(), 1);
    }
  }

  // ---------------------------------------------------------------- outcomes
  void drop(Server& s, const std::string& why) {
    if (s.rep.dropped) return;
    s.rep.dropped = true;
    s.rep.drop_reason = why;
  }

  // Removes `t` from the loop and applies its outcome.
  void finish(Transfer& t, Fault fault, const std::string& why, Clock::time_point now) {
    auto& s = servers[static_cast<std::size_t>(t.server)];
    destroy_easy(t);
    if (!t.slot_freed && s.active) --s.active;
    t.slot_freed = true;
    if (t.duplicate && active_duplicates) --active_duplicates;
    if (fault == Fault::kNone) {
      succeed(t, s, now);
      return;
    }
    planner->release(t.chunk, t.server);
    if (fault == Fault::kCanceled) return;
    ++s.rep.retries;
    s.rep.last_error = why;
    switch (fault) {
      case Fault::kLocal:
        fail_fatal(exit_code::kLocalIo, why);
        break;
      case Fault::kAuth: {
        if (t.token != token) break;  // an older token; the new one is in use already
        bool renewed = rep.token_renewals < 3 && renew_token(why);
        // renew_token may add servers: `s` may dangle, index again.
        if (!renewed)
          strike(servers[static_cast<std::size_t>(t.server)],
                 "refused the download token (" + why + ")", now);
        break;
      }
      case Fault::kStrike:
        strike(s, why, now);
        break;
      case Fault::kTransport:
      default:
        transport_failure(s, why, now);
        break;
    }
  }

  // A failure of the connection or the server (not of the bytes): backoff, and a drop after
  // max_failures in a row.
  void transport_failure(Server& s, const std::string& why, Clock::time_point now) {
    ++s.consecutive_failures;
    if (s.consecutive_failures >= o.max_failures) {
      drop(s, "failed " + std::to_string(s.consecutive_failures) + " times in a row (last: " + why +
                  ")");
      return;
    }
    auto d = o.backoff_base * (1LL << std::min(s.consecutive_failures - 1, 20));
    s.backoff_until =
        now + std::min<std::chrono::milliseconds>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(d), o.backoff_max);
  }

  void strike(Server& s, const std::string& why, Clock::time_point now) {
    ++s.rep.strikes;
    if (static_cast<int>(s.rep.strikes) >= o.max_strikes) {
      drop(s, std::to_string(s.rep.strikes) + " strikes (last: " + why + ")");
      return;
    }
    s.backoff_until = now + o.backoff_base;
  }

  void succeed(Transfer& t, Server& s, Clock::time_point now) {
    if (planner->verified(t.chunk)) {  // lost a race we did not cancel in time: nothing to do
      planner->release(t.chunk, t.server);
      return;
    }
    auto others = planner->complete(t.chunk, t.server);
    for (int other : others) {
      if (Transfer* o2 = find_copy(t.chunk, other)) {
        o2->fault = Fault::kCanceled;
        auto& os = servers[static_cast<std::size_t>(other)];
        bool was_silent = silent(*o2, now);
        destroy_easy(*o2);
        if (os.active) --os.active;
        if (o2->duplicate && active_duplicates) --active_duplicates;
        if (was_silent) {
          // It lost because it went silent: a failure of its server, not a lost race.
          auto quiet_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(now - o2->last_data).count();
          ++os.rep.retries;
          os.rep.last_error = "silent: no data for " + std::to_string(quiet_ms) + " ms, chunk " +
                              std::to_string(t.chunk) + " taken over by " + s.rep.id;
          transport_failure(os, os.rep.last_error, now);
        } else {
          prefer.push_back(other);
        }
      }
    }
    if (t.duplicate) {
      // The primary copy (if any) was cancelled above, so nobody else writes this range now.
      if (int e = pwrite_all(fd, t.buffer.data(), t.buffer.size(), t.offset)) {
        fail_fatal(exit_code::kLocalIo, io_message("cannot write", part_path, e));
        return;
      }
      ++s.rep.duplicates_won;
      std::string().swap(t.buffer);
    }
    s.consecutive_failures = 0;
    double took = secs(now - t.start) * static_cast<double>(m.chunk_size) /
                  static_cast<double>(std::max<std::uint64_t>(t.length, 1));
    s.ema_chunk_s = s.ema_chunk_s > 0 ? 0.7 * s.ema_chunk_s + 0.3 * took : took;
    s.rep.bytes += t.length;
    ++s.rep.chunks;
    ++rep.chunks_fetched;
    rep.bytes_fetched += t.length;
    ++fetched_this_attempt;
    state_dirty = true;
    prefer.push_back(t.server);
    prefix->advance(std::min<std::uint64_t>(m.size, planner->verified_prefix() * m.chunk_size));
  }

  bool renew_token(const std::string& why) {
    if (!o.renew) return false;
    ++rep.token_renewals;
    std::string err;
    auto fresh = o.renew(err);
    if (!fresh) {
      for (auto& s : servers) s.rep.last_error = "token renewal failed: " + err;
      return false;
    }
    if (fresh->uid != m.uid || fresh->size != m.size || fresh->chunk_size != m.chunk_size ||
        fresh->chunks != m.chunks || fresh->digest != m.digest) {
      fail_fatal(exit_code::kServer, "the file changed on the info server during the download");
      return false;
    }
    token = fresh->download_token;
    for (const auto& loc : fresh->locations) {
      bool known = std::any_of(servers.begin(), servers.end(),
                               [&](const Server& s) { return s.loc.server_id == loc.server_id; });
      if (!known && loc.healthy) add_server(loc);
    }
    (void)why;
    return true;
  }

  void add_server(const Location& loc) {
    Server s;
    s.loc = loc;
    s.rep.id = loc.server_id;
    s.rep.zone = loc.zone;
    s.rep.url = loc.url;
    servers.push_back(std::move(s));
    pacer.resize(servers.size());
  }

  // ---------------------------------------------------------------- loop
  void check_stalls(Clock::time_point now) {
    for (auto& t : transfers) {
      if (!t->easy) continue;
      if (now - t->last_data >= o.stall_timeout) {
        t->fault = Fault::kTransport;
        t->why =
            "stalled: no data for " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(now - t->last_data).count()) +
            " ms";
        finish(*t, Fault::kTransport, t->why, now);
      }
    }
  }

  void reap() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      if (!t) continue;
      CURLcode rc = msg->data.result;
      auto now = Clock::now();
      Fault f = t->fault;
      std::string why = t->why;
      if (f == Fault::kNone) {
        if (rc != CURLE_OK) {
          f = Fault::kTransport;
          why = printable(t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
          const auto& loc = servers[static_cast<std::size_t>(t->server)].loc;
          if (auto tls = tls_failure_message(rc, loc.url, why)) why = *tls;
        } else if (t->status != 206) {
          long st = t->status;
          f = (st == 401 || st == 403)              ? Fault::kAuth
              : (st >= 500 || st == 429 || st == 0) ? Fault::kTransport
                                                    : Fault::kStrike;
          why = "HTTP " + std::to_string(st) + " instead of 206";
        } else if (t->received != t->length) {
          f = Fault::kTransport;
          why = "short body: " + std::to_string(t->received) + " of " + std::to_string(t->length) +
                " bytes";
        } else if (int e = flush(*t)) {
          f = Fault::kLocal;
          t->io_error = e;
          why = io_message("cannot write", part_path, e);
        } else {
          // The body is complete: give the server its slot back now and let the worker finish
          // the digest; check_digests() applies the outcome.
          worker->finish(t->digest);
          // Start writing the chunk to disk now (on the worker) so the closing fsync has little
          // left; a duplicate's bytes are only in memory until it wins.
          if (!t->duplicate) worker->start_writeback(fd, t->offset, t->length);
          destroy_easy(*t);
          auto& s = servers[static_cast<std::size_t>(t->server)];
          if (s.active) --s.active;
          t->slot_freed = true;
          prefer.push_back(t->server);
          for (auto it = transfers.begin(); it != transfers.end(); ++it) {
            if (it->get() == t) {
              verifying.push_back(std::move(*it));
              transfers.erase(it);
              break;
            }
          }
          continue;
        }
      }
      finish(*t, f, why, now);
    }
    transfers.remove_if([](const std::unique_ptr<Transfer>& t) { return t->easy == nullptr; });
  }

  // Test hook (--stop-after-chunks N): N chunks were fetched; nothing more is started or counted,
  // so the loop stops like an interrupt however many chunks one turn of it completes.
  bool hook_stop() const {
    return o.stop_after_chunks && rep.chunks_fetched >= o.stop_after_chunks;
  }

  // Applies the outcome of every complete body whose digest the worker has computed.
  void check_digests() {
    for (auto it = verifying.begin(); it != verifying.end() && !fatal && !hook_stop();) {
      Transfer& t = **it;
      if (!t.digest->done()) {
        ++it;
        continue;
      }
      Fault f = Fault::kNone;
      std::string why;
      if (t.digest->digest() != m.chunks[t.chunk]) {
        f = Fault::kStrike;
        why = "chunk " + std::to_string(t.chunk) + " digest mismatch";
      }
      finish(t, f, why, Clock::now());
      it = verifying.erase(it);
    }
  }

  void save(bool force) {
    if (!force && !state_dirty) return;
    DownloadState st;
    st.uid = m.uid;
    st.size = m.size;
    st.chunk_size = m.chunk_size;
    st.alg = m.alg;
    st.verified = planner->verified_bitmap();
    if (int e = save_state(state_path, st)) {
      fail_fatal(exit_code::kLocalIo, io_message("cannot write state file", state_path, e));
      return;
    }
    state_dirty = false;
  }

  void report_progress(Clock::time_point now) {
    if (!o.on_progress) return;
    Progress p;
    p.total_bytes = m.size;
    std::uint64_t done = 0;
    for (std::size_t i = 0; i < planner->size(); ++i)
      if (planner->verified(i)) done += m.chunk_length(i);
    for (auto& t : transfers)
      if (t->easy && !t->duplicate) done += t->received;
    p.done_bytes = std::min(done, m.size);
    samples.emplace_back(now, rep.bytes_received);
    while (samples.size() > 2 && now - samples.front().first > std::chrono::seconds(3))
      samples.pop_front();
    double dt = secs(now - samples.front().first);
    if (dt > 0.1) p.speed = static_cast<double>(rep.bytes_received - samples.front().second) / dt;
    if (p.speed > 0) p.eta_s = static_cast<double>(m.size - p.done_bytes) / p.speed;
    for (auto& s : servers) {
      if (s.active) ++p.servers_active;
      if (!s.rep.dropped) ++p.servers_usable;
    }
    o.on_progress(p);
  }

  void pace(Clock::time_point now) {
    std::vector<bool> busy(servers.size());
    for (std::size_t i = 0; i < servers.size(); ++i) busy[i] = servers[i].active > 0;
    pacer.tick(now, busy);
  }

  // Runs transfers until every chunk is verified, or a stop condition. Returns exit code
  // (0 = all chunks verified).
  int loop() {
    auto last_save = Clock::now();
    auto last_progress = Clock::time_point{};
    while (!planner->done()) {
      auto now = Clock::now();
      if (o.interrupt && o.interrupt->load()) return exit_code::kInterrupted;
      if (hook_stop()) return exit_code::kInterrupted;
      if (o.deadline != Clock::time_point{} && now >= o.deadline) return exit_code::kDeadline;
      if (fatal) return fatal_code;
      pace(now);
      give_back_overcommitted(now);
      schedule(now);
      if (fatal) return fatal_code;
      if (transfers.empty() && verifying.empty()) {
        bool any = std::any_of(servers.begin(), servers.end(),
                               [](const Server& s) { return !s.rep.dropped; });
        if (!any) return exit_code::kIncomplete;
      }
      int running = 0;
      curl_multi_perform(multi, &running);
      reap();
      check_digests();
      if (fatal) return fatal_code;
      if (planner->done()) break;
      now = Clock::now();
      check_stalls(now);
      transfers.remove_if([](const std::unique_ptr<Transfer>& t) { return t->easy == nullptr; });
      if (now - last_save >= std::chrono::milliseconds(500)) {
        save(false);
        last_save = now;
      }
      schedule(now);  // refill before waiting, or a batch waits out the poll timeout
      if (now - last_progress >= std::chrono::milliseconds(250)) {
        report_progress(now);
        last_progress = now;
      }
      int numfds = 0;
      curl_multi_poll(multi, nullptr, 0, transfers.empty() ? 20 : 100, &numfds);
    }
    report_progress(Clock::now());
    return 0;
  }

  void cancel_all() {
    for (auto& t : transfers) {
      if (!t->easy) continue;
      auto& s = servers[static_cast<std::size_t>(t->server)];
      destroy_easy(*t);
      if (s.active) --s.active;
      planner->release(t->chunk, t->server);
    }
    transfers.clear();
    for (auto& t : verifying) planner->release(t->chunk, t->server);
    verifying.clear();
    active_duplicates = 0;
  }

  std::string all_servers_failed_message() const {
    std::string msg = "every file server failed; the verified part is kept for a rerun:";
    if (servers.empty()) return "no file server holds this file";
    for (const auto& s : servers) {
      // One line per server: what came from the network is escaped, newlines included.
      msg += "\n  " + printable(s.rep.id + " (" + s.rep.url +
                                "): " + (s.rep.dropped ? s.rep.drop_reason : s.rep.last_error));
    }
    return msg;
  }

  // Re-hashes every chunk marked verified from the .part file; clears the bad ones. Returns the
  // number cleared, or -1 on read error.
  long reverify(std::vector<bool>& bits) {
    Hasher h(m.alg);
    std::vector<char> buf(1 << 20);
    long bad = 0;
    for (std::size_t i = 0; i < bits.size(); ++i) {
      if (!bits[i]) continue;
      h.reset();
      std::uint64_t off = m.chunk_offset(i), left = m.chunk_length(i);
      while (left) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        h.update(buf.data(), static_cast<std::size_t>(n));
        off += static_cast<std::uint64_t>(n);
        left -= static_cast<std::uint64_t>(n);
      }
      if (h.final_hex() != m.chunks[i]) {
        bits[i] = false;
        ++bad;
      }
    }
    return bad;
  }

  // ---------------------------------------------------------------- run
  void set_result(int code, std::string msg) {
    rep.ok = code == 0;
    rep.exit_code = code;
    rep.error = std::move(msg);
  }

  DownloadReport run() {
    auto t0 = Clock::now();
    rep.path = o.output;
    rep.uid = m.uid;
    rep.name = m.name;
    rep.size = m.size;
    rep.alg = m.alg;
    rep.chunk_size = m.chunk_size;
    rep.chunks_total = m.chunk_count();
    token = m.download_token;
    for (const auto& loc : m.locations)
      if (loc.healthy) add_server(loc);
    run_inner();
    rep.seconds = secs(Clock::now() - t0);
    rep.average_speed = rep.seconds > 0 ? static_cast<double>(rep.bytes_fetched) / rep.seconds : 0;
    for (const auto& s : servers) rep.servers.push_back(s.rep);
    return rep;
  }

  void run_inner() {
    part_path = o.output + ".dfd-part";
    state_path = o.output + ".dfd-state";
    struct stat st {};
    if (::lstat(o.output.c_str(), &st) == 0 && !o.force) {
      set_result(exit_code::kExists, o.output + " already exists (use --force to overwrite it)");
      return;
    }
    // Nothing planted at our own paths is followed (a symlink to a victim file).
    for (const auto& p : {part_path, state_path, state_path + ".tmp"}) {
      if (auto e = refuse_non_regular(p); !e.empty()) {
        set_result(exit_code::kLocalIo, e);
        return;
      }
    }
    std::vector<bool> bits(m.chunk_count(), false);
    bool resumed = false;
    std::string why;
    if (auto old = load_state(state_path, &why)) {
      struct stat pst {};
      if (old->matches(m.uid, m.size, m.chunk_size, m.alg) &&
          ::lstat(part_path.c_str(), &pst) == 0 &&
          static_cast<std::uint64_t>(pst.st_size) == m.size) {
        bits = old->verified;
        resumed = true;
      } else {
        rep.restarted = true;
      }
    } else if (!why.empty()) {
      rep.restarted = true;  // a corrupt state file: start over
    }
    PartOpen part =
        resumed ? open_part_to_resume(part_path, m.size) : create_part(part_path, m.size);
    if (part.fd < 0) {
      set_result(exit_code::kLocalIo, part.error);
      return;
    }
    fd = part.fd;
    rep.chunks_resumed = 0;
    for (bool b : bits) rep.chunks_resumed += b;

    curl_init_once();
    multi = curl_multi_init();
    std::size_t n = std::max<std::size_t>(servers.size(), 1);
    cap = o.connections ? o.connections
                        : std::max<std::size_t>(8, std::min<std::size_t>(16, o.per_server * n));
    max_duplicates = std::max<std::size_t>(
        1, std::min<std::size_t>(4, (32u << 20) / std::max<std::uint64_t>(m.chunk_size, 1)));
    // Blocks: one being filled per transfer plus 16 queued for hashing (4 MiB).
    worker = std::make_unique<HashWorker>([this] { curl_multi_wakeup(multi); }, cap + 16);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(cap + n * o.per_server));
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(o.per_server + 2));

    bool trusted = resumed && rep.chunks_resumed > 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      planner = std::make_unique<ChunkPlanner>(m.chunk_count());
      for (std::size_t i = 0; i < bits.size(); ++i)
        if (bits[i]) planner->mark_verified(i);
      prefix = std::make_unique<PrefixHasher>(fd, m.alg, m.size);
      prefix->advance(std::min<std::uint64_t>(m.size, planner->verified_prefix() * m.chunk_size));
      save(true);
      if (fatal) {
        set_result(fatal_code, fatal_msg);
        return;
      }
      if (servers.empty() && !planner->done()) {
        set_result(exit_code::kIncomplete, "no healthy file server holds this file");
        return;
      }
      int code = loop();
      cancel_all();
      save(true);
      if (code != 0) {
        prefix.reset();
        if (code == exit_code::kIncomplete) {
          set_result(code, all_servers_failed_message());
        } else if (code == exit_code::kDeadline) {
          char secs_text[32];
          std::snprintf(secs_text, sizeof secs_text, "%g", o.deadline_s);
          set_result(code, std::string("the deadline of ") + secs_text + " s passed; " +
                               std::to_string(planner->verified_count()) + " of " +
                               std::to_string(planner->size()) +
                               " chunks are verified and kept for a rerun");
        } else if (code == exit_code::kInterrupted) {
          set_result(code, "interrupted; " + std::to_string(planner->verified_count()) + " of " +
                               std::to_string(planner->size()) +
                               " chunks are verified and kept for a rerun");
        } else {
          set_result(code, fatal ? fatal_msg : "download failed");
        }
        return;
      }
      prefix->advance(m.size);
      std::string digest;
      if (!prefix->finish(digest)) {
        set_result(exit_code::kLocalIo, digest);
        return;
      }
      prefix.reset();
      if (digest == m.digest) {
        rep.digest_verified = true;
        break;
      }
      if (attempt == 0 && trusted) {
        // Chunks trusted from the state file may be stale (e.g. the .part was changed behind our
        // back): check them once from disk and fetch again what is wrong.
        bits = planner->verified_bitmap();
        long bad = reverify(bits);
        if (bad < 0) {
          set_result(exit_code::kLocalIo,
                     io_message("cannot read back", part_path, errno ? errno : EIO));
          return;
        }
        if (bad > 0) continue;
      }
      set_result(exit_code::kDigest, "whole-file " + m.alg + " mismatch: expected " + m.digest +
                                         ", got " + digest + "; state kept in " + state_path);
      return;
    }
    if (!rep.digest_verified) {
      set_result(exit_code::kDigest, "whole-file digest mismatch; state kept in " + state_path);
      return;
    }
    if (::fsync(fd) != 0) {
      set_result(exit_code::kLocalIo, io_message("cannot sync", part_path, errno));
      return;
    }
    ::close(fd);
    fd = -1;
    if (::rename(part_path.c_str(), o.output.c_str()) != 0) {
      set_result(exit_code::kLocalIo, io_message("cannot rename the download to", o.output, errno));
      return;
    }
    int dfd = ::open(dir_of(o.output).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    ::unlink(state_path.c_str());
    set_result(exit_code::kOk, "");
  }
};

Downloader::Downloader(Manifest manifest, DownloadOptions options)
    : impl_(new Impl(std::move(manifest), std::move(options))) {}

Downloader::~Downloader() {
  delete impl_;
}

DownloadReport Downloader::run() {
  return impl_->run();
}

}  // namespace dfd::client
