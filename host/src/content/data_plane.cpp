#include "content/data_plane.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "content/http_request.hpp"
#include "content/range_header.hpp"

namespace dfd::host {

namespace {

using Steady = std::chrono::steady_clock;
using SteadyTime = Steady::time_point;
constexpr SteadyTime kNever = SteadyTime::max();

constexpr std::size_t kBounceSize = 256 * 1024;          // read_at fallback buffer per transfer
constexpr std::uint64_t kTurnBudget = 16 * 1024 * 1024;  // file bytes per connection per turn
constexpr std::size_t kMaxSendfile = 0x7ffff000;         // Linux caps one sendfile() here
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr auto kFileCacheTtl = std::chrono::seconds(10);
constexpr std::size_t kFileCacheMax = 256;
constexpr auto kVerdictTtl = std::chrono::seconds(1);
constexpr std::size_t kVerdictCacheMax = 4096;
constexpr std::string_view kContentPrefix = "/v1/content/";

// Tags for epoll data.ptr of the non-connection descriptors.
char kListenTag;
char kWakeTag;

std::string errno_text(int err) {
  char buf[128];
  return std::string(strerror_r(err, buf, sizeof buf));
}

void append_uint(std::string& s, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

// A file opened for serving, shared by the loop's cache and the transfers using it.
struct OpenFile {
  std::shared_ptr<const IndexedFile> meta;
  std::shared_ptr<ReadHandle> handle;
  int fd = -1;
  std::uint64_t size = 0;
  std::string etag;           // "\"<uid>\""
  std::string fixed_headers;  // Accept-Ranges, ETag, Repr-Digest, Content-Disposition, ...
  SteadyTime opened;
};

// One piece of a response: bytes from memory, or a byte range of the file.
struct Chunk {
  std::string mem;
  std::uint64_t off = 0;
  std::uint64_t len = 0;
  bool file = false;
};

enum class ConnState { kReading, kWriting, kParked, kLingering };

// A request waiting for its token to become known (owns copies of what it needs).
struct ParkedRequest {
  bool head_only = false;
  std::string uid;
  std::string token;
  std::string range;
  std::string if_range;
  int range_count = 0;
};

struct Conn {
  int fd = -1;
  std::uint64_t serial = 0;
  ConnState state = ConnState::kReading;
  std::unique_ptr<char[]> buf;
  std::size_t len = 0;
  bool readable = true;
  bool peer_eof = false;
  bool closed = false;
  bool keep_alive = true;
  bool queued = false;  // in the loop's ready list
  bool http10 = false;  // the current request is HTTP/1.0 (keep-alive must be announced)
  // Response in flight.
  int status = 0;
  std::vector<Chunk> chunks;
  std::size_t ci = 0;
  std::uint64_t cpos = 0;
  std::shared_ptr<OpenFile> file;
  std::unique_ptr<char[]> bounce;
  std::size_t bounce_len = 0;
  std::size_t bounce_pos = 0;
  std::uint64_t body_bytes = 0;
  // Parked request.
  ParkedRequest parked;
  // Timers: `deadline` is when this connection's current wait ends; `heap_time` the time of
  // its live entry in the loop's heap (kNever = none).
  SteadyTime deadline = kNever;
  SteadyTime heap_time = kNever;
  SteadyTime head_start;  // when the first byte of the head being received arrived
};

struct TimerEntry {
  SteadyTime t;
  std::uint64_t serial;
  bool operator>(const TimerEntry& o) const { return t > o.t; }
};

enum class WriteResult { kDone, kBlocked, kYield, kError };

}  // namespace

struct DataPlane::Impl {
  class Loop;

  Impl(Logger& l, Metrics& m, Auth& a, ContentSource& s, DataPlaneOptions o)
      : log(l),
        metrics(m),
        auth(a),
        source(s),
        opt(std::move(o)),
        bytes_sent(m.counter("dfd_content_bytes_sent_total",
                             "File bytes sent by the data plane (bodies of 200/206 responses)")),
        active(m.gauge("dfd_content_active_connections", "Open data-plane connections")) {}

  Logger& log;
  Metrics& metrics;
  Auth& auth;
  ContentSource& source;
  DataPlaneOptions opt;
  Counter& bytes_sent;
  Gauge& active;

  std::mutex lifecycle_mu;  // guards `loops` against notify_tokens_changed() during stop()
  std::vector<std::unique_ptr<Loop>> loops;
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> grace_deadline_ns{0};
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::uint64_t> next_serial{0};
  std::string bound;
  int bound_port = 0;
  std::mutex metrics_mu;  // guards the two counter maps below (registration only)
  std::unordered_map<int, Counter*> status_counters;
  std::unordered_map<std::string, Counter*> denial_counters;

  Counter& status_counter(int status) {
    std::lock_guard<std::mutex> g(metrics_mu);
    auto it = status_counters.find(status);
    if (it != status_counters.end()) return *it->second;
    Counter& c = metrics.counter("dfd_content_responses_total", "Data-plane responses by status",
                                 {{"status", std::to_string(status)}});
    status_counters.emplace(status, &c);
    return c;
  }
  Counter& denial_counter(const std::string& reason) {
    std::lock_guard<std::mutex> g(metrics_mu);
    auto it = denial_counters.find(reason);
    if (it != denial_counters.end()) return *it->second;
    Counter& c = metrics.counter("dfd_content_token_denials_total",
                                 "Requests refused for their download token, by reason",
                                 {{"reason", reason}});
    denial_counters.emplace(reason, &c);
    return c;
  }
};

// One event-loop thread with its own epoll set.
class DataPlane::Impl::Loop {
 public:
  Loop(Impl& owner, int index) : o_(owner), index_(index) {
    std::random_device rd;
    boundary_seed_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  ~Loop() {
    for (int fd : inbox_) ::close(fd);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (ep_ >= 0) ::close(ep_);
  }

  Status init(int listen_fd) {
    listen_fd_ = listen_fd;  // owned from here on (closed by the destructor)
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) return Status::IoError("epoll_create1: " + errno_text(errno));
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return Status::IoError("eventfd: " + errno_text(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &kWakeTag;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
      return Status::IoError("epoll_ctl(eventfd): " + errno_text(errno));
    }
    if (listen_fd >= 0) {
      ev.events = EPOLLIN;
      ev.data.ptr = &kListenTag;
      if (::epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
        return Status::IoError("epoll_ctl(listen): " + errno_text(errno));
      }
    }
    return Status::Ok();
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  void wake() {
    std::uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof one);
    (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake anyway
  }
  void post_tokens_changed() {
    tokens_changed_.store(true);
    wake();
  }
  void hand_over(int fd) {
    {
      std::lock_guard<std::mutex> g(inbox_mu_);
      inbox_.push_back(fd);
    }
    wake();
  }

 private:
  // ------------------------------------------------------------------------------- the loop
  void run() {
    std::vector<epoll_event> events(256);
    bool stop_seen = false;
    while (true) {
      if (o_.stopping.load() && !stop_seen) {
        stop_seen = true;
        begin_stop();
        bury();
      }
      if (stop_seen) {
        if (conns_.empty()) break;
        if (Steady::now().time_since_epoch().count() >= o_.grace_deadline_ns.load()) break;
      }
      int timeout = ready_.empty() ? wait_timeout_ms(stop_seen) : 0;
      int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        o_.log.error("data plane: epoll_wait: " + errno_text(errno));
        break;
      }
      for (int i = 0; i < n; ++i) {
        void* p = events[i].data.ptr;
        if (p == &kWakeTag) {
          on_wake();
        } else if (p == &kListenTag) {
          on_accept();
        } else {
          on_conn_event(*static_cast<Conn*>(p), events[i].events);
        }
      }
      run_ready();
      run_timers(Steady::now());
      bury();
      if (accept_paused_until_ != kNever && Steady::now() >= accept_paused_until_) {
        accept_paused_until_ = kNever;
        if (listen_fd_ >= 0) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.ptr = &kListenTag;
          ::epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev);
        }
      }
    }
    for (auto& kv : conns_) close_conn(*kv.second);
    bury();
    files_.clear();
  }

  int wait_timeout_ms(bool stop_seen) {
    SteadyTime next = timers_.empty() ? kNever : timers_.top().t;
    next = std::min(next, accept_paused_until_);
    if (stop_seen) {
      SteadyTime grace{Steady::duration(o_.grace_deadline_ns.load())};
      next = std::min(next, grace);
    }
    if (next == kNever) return -1;
    auto now = Steady::now();
    if (next <= now) return 0;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
    return static_cast<int>(std::min<long long>(ms, 60 * 60 * 1000));
  }

  void begin_stop() {
    if (listen_fd_ >= 0) {
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
    std::vector<Conn*> all;
    for (auto& kv : conns_) all.push_back(kv.second.get());
    for (Conn* c : all) {
      if (c->state == ConnState::kWriting) {
        c->keep_alive = false;  // finish this response, then close
      } else {
        close_conn(*c);
      }
    }
  }

  void on_wake() {
    std::uint64_t v;
    while (::read(wake_fd_, &v, sizeof v) > 0) {
    }
    std::vector<int> fds;
    {
      std::lock_guard<std::mutex> g(inbox_mu_);
      fds.swap(inbox_);
    }
    for (int fd : fds) add_conn(fd);
    if (tokens_changed_.exchange(false)) {
      verdicts_.clear();
      recheck_parked();
    }
  }

  void on_accept() {
    // Accept a bounded batch; the listener is level-triggered so more will be reported.
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        if (errno == ECONNABORTED || errno == EPROTO) continue;
        // EMFILE/ENFILE/ENOBUFS: the listener would stay readable and spin this loop; take it
        // out of the epoll set for a moment instead.
        o_.log.warn("data plane: accept: " + errno_text(errno) + " (pausing accepts for 100 ms)");
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        accept_paused_until_ = Steady::now() + std::chrono::milliseconds(100);
        return;
      }
      std::size_t target = rr_++ % o_.loops.size();
      if (target == static_cast<std::size_t>(index_)) {
        add_conn(fd);
      } else {
        o_.loops[target]->hand_over(fd);
      }
    }
  }

  void add_conn(int fd) {
    if (o_.stopping.load()) {
      ::close(fd);
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->serial = ++o_.next_serial;
    c->buf.reset(new char[o_.opt.max_head]);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c.get();
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      o_.log.warn("data plane: epoll_ctl(add): " + errno_text(errno));
      ::close(fd);
      return;
    }
    Conn* raw = c.get();
    conns_.emplace(raw->serial, std::move(c));
    o_.connections.fetch_add(1);
    o_.active.add(1);
    set_deadline(*raw, Steady::now() + std::chrono::seconds(o_.opt.idle_timeout_s));
    process(*raw);  // the request may already be there
  }

  void on_conn_event(Conn& c, std::uint32_t ev) {
    if (c.closed) return;
    if (ev & EPOLLERR) {
      close_conn(c);
      return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) c.readable = true;
    if ((ev & EPOLLHUP) && c.state == ConnState::kParked) {
      close_conn(c);  // both directions gone: nobody to answer
      return;
    }
    process(c);
  }

  void close_conn(Conn& c) {
    if (c.closed) return;
    c.closed = true;
    ::close(c.fd);
    c.fd = -1;
    flush_body_bytes(c);
    c.file.reset();
    c.bounce.reset();
    c.chunks.clear();
    o_.connections.fetch_sub(1);
    o_.active.add(-1);
    graveyard_.push_back(c.serial);
  }

  void bury() {
    for (std::uint64_t s : graveyard_) conns_.erase(s);
    graveyard_.clear();
  }

  Conn* find_conn(std::uint64_t serial) {
    auto it = conns_.find(serial);
    if (it == conns_.end() || it->second->closed) return nullptr;
    return it->second.get();
  }

  // ------------------------------------------------------------------------------- timers
  void set_deadline(Conn& c, SteadyTime t) {
    c.deadline = t;
    if (t < c.heap_time) {
      timers_.push({t, c.serial});
      c.heap_time = t;
    }
  }

  void run_timers(SteadyTime now) {
    while (!timers_.empty() && timers_.top().t <= now) {
      TimerEntry e = timers_.top();
      timers_.pop();
      Conn* c = find_conn(e.serial);
      if (c == nullptr || e.t != c->heap_time) continue;  // stale entry
      c->heap_time = kNever;
      if (c->deadline <= now) {
        on_timeout(*c);
      } else if (c->deadline != kNever) {
        timers_.push({c->deadline, c->serial});
        c->heap_time = c->deadline;
      }
    }
  }

  void on_timeout(Conn& c) {
    switch (c.state) {
      case ConnState::kParked:
        resolve_parked(c, /*final=*/true);
        break;
      case ConnState::kReading:
      case ConnState::kWriting:
      case ConnState::kLingering:
        if (c.state == ConnState::kWriting && o_.log.enabled(LogLevel::kDebug)) {
          o_.log.debug("data plane: send timeout, closing a connection");
        }
        close_conn(c);
        break;
    }
  }

  // ------------------------------------------------------------------------------- I/O
  // Reads what is available into the head buffer. False when the connection must close.
  bool read_in(Conn& c) {
    std::size_t cap = o_.opt.max_head;
    while (c.readable && c.len < cap && !c.peer_eof) {
      std::size_t space = cap - c.len;
      ssize_t n = ::recv(c.fd, c.buf.get() + c.len, space, 0);
      if (n > 0) {
        if (c.len == 0) c.head_start = Steady::now();
        c.len += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < space) c.readable = false;  // drained (edge-triggered)
        return true;
      }
      if (n == 0) {
        c.peer_eof = true;
        c.readable = false;
        return true;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.readable = false;
        return true;
      }
      return false;  // ECONNRESET etc.
    }
    return true;
  }

  WriteResult write_out(Conn& c) {
    std::uint64_t budget = kTurnBudget;
    while (c.ci < c.chunks.size()) {
      Chunk& ch = c.chunks[c.ci];
      bool more = c.ci + 1 < c.chunks.size();
      if (!ch.file) {
        std::size_t left = ch.mem.size() - c.cpos;
        if (left == 0) {
          ++c.ci;
          c.cpos = 0;
          continue;
        }
        ssize_t n =
            ::send(c.fd, ch.mem.data() + c.cpos, left, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) return WriteResult::kBlocked;
          return WriteResult::kError;
        }
        c.cpos += static_cast<std::uint64_t>(n);
        continue;
      }
      std::uint64_t left = ch.len - c.cpos;
      if (left == 0) {
        ++c.ci;
        c.cpos = 0;
        c.bounce_len = c.bounce_pos = 0;
        continue;
      }
      if (budget == 0) return WriteResult::kYield;
      ssize_t n;
      if (c.file->fd >= 0) {
        off_t off = static_cast<off_t>(ch.off + c.cpos);
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kMaxSendfile));
        want = static_cast<std::size_t>(std::min<std::uint64_t>(want, budget));
        n = ::sendfile(c.fd, c.file->fd, &off, want);
        if (n == 0) {
          o_.log.warn("data plane: file '" + c.file->meta->path +
                      "' is shorter than indexed; closing the connection");
          return WriteResult::kError;
        }
      } else {
        if (c.bounce_pos == c.bounce_len) {
          if (!c.bounce) c.bounce.reset(new char[kBounceSize]);
          std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kBounceSize));
          auto r = c.file->handle->read_at(ch.off + c.cpos, c.bounce.get(), want);
          if (!r.ok() || *r == 0) {
            o_.log.warn("data plane: reading '" + c.file->meta->path + "' failed: " +
                        (r.ok() ? std::string("unexpected end of file") : r.status().to_string()));
            return WriteResult::kError;
          }
          c.bounce_len = *r;
          c.bounce_pos = 0;
        }
        bool more_after = more || (c.bounce_len - c.bounce_pos) < left;
        n = ::send(c.fd, c.bounce.get() + c.bounce_pos, c.bounce_len - c.bounce_pos,
                   MSG_NOSIGNAL | (more_after ? MSG_MORE : 0));
        if (n > 0) c.bounce_pos += static_cast<std::size_t>(n);
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return WriteResult::kBlocked;
        return WriteResult::kError;  // EPIPE, ECONNRESET: the client went away
      }
      auto sent = static_cast<std::uint64_t>(n);
      c.cpos += sent;
      c.body_bytes += sent;
      budget -= std::min(budget, sent);
    }
    return WriteResult::kDone;
  }

  void flush_body_bytes(Conn& c) {
    if (c.body_bytes > 0) {
      o_.bytes_sent.add(static_cast<double>(c.body_bytes));
      c.body_bytes = 0;
    }
  }

  void run_ready() {
    if (ready_.empty()) return;
    std::vector<std::uint64_t> now;
    now.swap(ready_);
    for (std::uint64_t s : now) {
      Conn* c = find_conn(s);
      if (c == nullptr) continue;
      c->queued = false;
      process(*c);
    }
  }

  // Drives one connection as far as it can go without blocking.
  void process(Conn& c) {
    while (!c.closed) {
      switch (c.state) {
        case ConnState::kWriting: {
          WriteResult r = write_out(c);
          if (r == WriteResult::kBlocked) {
            set_deadline(c, Steady::now() + std::chrono::seconds(o_.opt.send_timeout_s));
            return;
          }
          if (r == WriteResult::kYield) {
            set_deadline(c, Steady::now() + std::chrono::seconds(o_.opt.send_timeout_s));
            if (!c.queued) {
              c.queued = true;
              ready_.push_back(c.serial);
            }
            return;
          }
          if (r == WriteResult::kError) {
            close_conn(c);
            return;
          }
          finish_response(c);
          break;
        }
        case ConnState::kParked:
          return;
        case ConnState::kLingering: {
          // Discard input until the client closes (or the linger deadline): closing with unread
          // input would reset the connection and could destroy the response we just sent.
          char sink[4096];
          while (true) {
            ssize_t n = ::recv(c.fd, sink, sizeof sink, 0);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            close_conn(c);  // EOF or error
            return;
          }
        }
        case ConnState::kReading: {
          if (c.len > 0) {
            RequestHead head;
            std::size_t consumed = 0;
            HeadParse p = parse_request_head(c.buf.get(), c.len, o_.opt.max_head, &head, &consumed);
            if (p == HeadParse::kComplete) {
              handle_request(c, head);
              consume(c, consumed);
              continue;
            }
            if (p != HeadParse::kIncomplete) {
              c.len = 0;
              c.keep_alive = false;
              if (p == HeadParse::kTooLarge) {
                error_response(c, 431, "request_too_large", "request head exceeds the limit",
                               false);
              } else if (p == HeadParse::kBadVersion) {
                error_response(c, 505, "http_version_not_supported", "only HTTP/1.x is served",
                               false);
              } else {
                error_response(c, 400, "bad_request", "malformed request", false);
              }
              continue;
            }
          }
          if (c.peer_eof) {
            close_conn(c);
            return;
          }
          if (!c.readable) {
            if (o_.stopping.load() && c.len == 0) {
              close_conn(c);
              return;
            }
            // Idle: the timeout runs from now; a head in progress must complete within the timeout
            // counted from its first byte (a client trickling bytes cannot hold the connection).
            auto idle = std::chrono::seconds(o_.opt.idle_timeout_s);
            set_deadline(c, (c.len == 0 ? Steady::now() : c.head_start) + idle);
            return;
          }
          if (!read_in(c)) {
            close_conn(c);
            return;
          }
          break;
        }
      }
    }
  }

  void consume(Conn& c, std::size_t n) {
    if (n >= c.len) {
      c.len = 0;
    } else {
      std::memmove(c.buf.get(), c.buf.get() + n, c.len - n);
      c.len -= n;
      c.head_start = Steady::now();  // the next (pipelined) head starts now
    }
  }

  void finish_response(Conn& c) {
    flush_body_bytes(c);
    c.chunks.clear();
    c.ci = 0;
    c.cpos = 0;
    c.file.reset();
    c.bounce.reset();
    c.bounce_len = c.bounce_pos = 0;
    if (!c.keep_alive || o_.stopping.load()) {
      ::shutdown(c.fd, SHUT_WR);
      c.state = ConnState::kLingering;
      c.readable = true;
      set_deadline(c, Steady::now() + kLingerTime);
      return;
    }
    c.state = ConnState::kReading;
    set_deadline(c, Steady::now() + std::chrono::seconds(o_.opt.idle_timeout_s));
  }

  // ------------------------------------------------------------------------------- responses
  const std::string& date_header() {
    std::time_t now = std::time(nullptr);
    if (now != date_sec_) {
      date_sec_ = now;
      std::tm tm{};
      gmtime_r(&now, &tm);
      char buf[64];
      std::size_t n = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
      date_.assign(buf, n);
    }
    return date_;
  }

  // Starts a response head: status line, Server, Date.
  std::string begin_head(int status) {
    std::string h;
    h.reserve(512);
    h += "HTTP/1.1 ";
    append_uint(h, static_cast<std::uint64_t>(status));
    h += ' ';
    h += reason_phrase(status);
    h += "\r\nServer: dfd\r\n";
    h += date_header();
    return h;
  }

  void end_head(Conn& c, std::string& h) {
    if (!c.keep_alive) {
      h += "Connection: close\r\n";
    } else if (c.http10) {
      h += "Connection: keep-alive\r\n";
    }
    h += "\r\n";
  }

  void start_response(Conn& c, int status) {
    c.status = status;
    c.state = ConnState::kWriting;
    c.ci = 0;
    c.cpos = 0;
    auto it = status_counters_.find(status);
    if (it == status_counters_.end()) {
      it = status_counters_.emplace(status, &o_.status_counter(status)).first;
    }
    it->second->add(1);
  }

  // A JSON error response. `head_only` → the same head without the body.
  void error_response(Conn& c, int status, std::string_view code, std::string_view message,
                      bool head_only, const std::string& extra_headers = std::string()) {
    HttpResponse r;
    set_json_error(r, status, code, message);
    std::string h = begin_head(status);
    h += "Content-Type: application/json\r\nContent-Length: ";
    append_uint(h, r.body.size());
    h += "\r\nCache-Control: no-store\r\n";
    h += extra_headers;
    end_head(c, h);
    if (!head_only) h += r.body;
    c.chunks.clear();
    c.chunks.push_back(Chunk{std::move(h), 0, 0, false});
    c.file.reset();
    start_response(c, status);
  }

  void deny(Conn& c, bool head_only, TokenVerdict v) {
    std::string reason = verdict_name(v);
    o_.denial_counter(reason).add(1);
    std::string msg = "download token refused: " + reason;
    error_response(c, 403, "permission_denied", msg, head_only,
                   "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
  }

  void handle_request(Conn& c, const RequestHead& req) {
    c.http10 = req.version_minor == 0;
    bool keep = req.version_minor >= 1 ? !req.connection_close
                                       : (req.connection_keep_alive && !req.connection_close);
    if (req.has_body || req.bad_content_length) keep = false;  // we never read request bodies
    if (o_.stopping.load()) keep = false;
    c.keep_alive = keep;
    bool head_only = req.method == "HEAD";

    if (req.bad_content_length) {
      error_response(c, 400, "bad_request", "malformed Content-Length", head_only);
      return;
    }
    std::string_view target = req.target;
    // absolute-form: "http://host:port/path"
    if (target.size() > 7 && (ascii_iequals(target.substr(0, 7), "http://") ||
                              ascii_iequals(target.substr(0, 8), "https://"))) {
      auto slash = target.find('/', target.find("//") + 2);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    auto q = target.find_first_of("?#");
    std::string_view path = target.substr(0, q);
    if (path.size() <= kContentPrefix.size() ||
        path.substr(0, kContentPrefix.size()) != kContentPrefix) {
      error_response(c, 404, "not_found", "no such endpoint", head_only);
      return;
    }
    if (req.method != "GET" && !head_only) {
      error_response(c, 405, "method_not_allowed", "only GET and HEAD are allowed", false,
                     "Allow: GET, HEAD\r\n");
      return;
    }
    std::string uid;
    if (!percent_decode(path.substr(kContentPrefix.size()), &uid)) {
      error_response(c, 404, "not_found", "no such file", head_only);
      return;
    }
    if (req.authorization_count > 1) {
      error_response(c, 400, "bad_request", "more than one Authorization field", head_only);
      return;
    }
    std::string_view token = bearer_token(req.authorization);
    if (token.empty()) {
      o_.denial_counter("missing").add(1);
      error_response(c, 401, "unauthenticated",
                     "a download token is required (Authorization: Bearer)", head_only,
                     "WWW-Authenticate: Bearer\r\n");
      return;
    }
    auto file = o_.source.find(uid);
    if (!file) {
      error_response(c, 404, "not_found", "no such file", head_only);
      return;
    }
    TokenVerdict v = verify(token, uid);
    if (v == TokenVerdict::kValid) {
      serve(c, file, head_only, req.range, req.range_count, req.if_range);
      return;
    }
    if (v == TokenVerdict::kUnknown && o_.opt.token_wait_ms > 0 && !o_.stopping.load()) {
      c.parked.head_only = head_only;
      c.parked.uid = std::move(uid);
      c.parked.token.assign(token.data(), token.size());
      c.parked.range.assign(req.range.data(), req.range.size());
      c.parked.if_range.assign(req.if_range.data(), req.if_range.size());
      c.parked.range_count = req.range_count;
      c.state = ConnState::kParked;
      parked_.push_back(c.serial);
      set_deadline(c, Steady::now() + std::chrono::milliseconds(o_.opt.token_wait_ms));
      return;
    }
    deny(c, head_only, v);
  }

  // The auth plugin's verdict, with valid verdicts remembered for up to kVerdictTtl per loop (a
  // download runs many range requests with one token). Any token event clears the memory, so a
  // revocation applies at once; an expiry applies at most kVerdictTtl late.
  TokenVerdict verify(std::string_view token, const std::string& uid) {
    auto now = Steady::now();
    verdict_key_.assign(uid);
    verdict_key_ += '\n';
    verdict_key_.append(token.data(), token.size());
    auto it = verdicts_.find(verdict_key_);
    if (it != verdicts_.end()) {
      if (now - it->second < kVerdictTtl) return TokenVerdict::kValid;
      verdicts_.erase(it);
    }
    TokenVerdict v = o_.auth.verify_download_token(token, uid);
    if (v == TokenVerdict::kValid) {
      if (verdicts_.size() >= kVerdictCacheMax) verdicts_.clear();
      verdicts_.emplace(verdict_key_, now);
    }
    return v;
  }

  static std::string_view bearer_token(std::string_view v) {
    if (v.size() < 7 || !ascii_iequals(v.substr(0, 6), "bearer") || (v[6] != ' ' && v[6] != '\t')) {
      return {};
    }
    v.remove_prefix(7);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    for (char ch : v) {
      if (ch == ' ' || ch == '\t') return {};
    }
    return v;
  }

  // Re-checks parked requests after a token event (or, with `final`, at their deadline).
  void recheck_parked() {
    std::vector<std::uint64_t> list;
    list.swap(parked_);
    for (std::uint64_t s : list) {
      Conn* c = find_conn(s);
      if (c == nullptr || c->state != ConnState::kParked) continue;
      resolve_parked(*c, false);
      if (!c->closed && c->state == ConnState::kParked) parked_.push_back(s);
    }
  }

  void resolve_parked(Conn& c, bool final) {
    ParkedRequest p = std::move(c.parked);
    c.parked = ParkedRequest();
    auto file = o_.source.find(p.uid);
    if (!file) {
      error_response(c, 404, "not_found", "no such file", p.head_only);
      process(c);
      return;
    }
    TokenVerdict v = verify(p.token, p.uid);
    if (v == TokenVerdict::kValid) {
      serve(c, file, p.head_only, p.range, p.range_count, p.if_range);
    } else if (v == TokenVerdict::kUnknown && !final && !o_.stopping.load()) {
      c.parked = std::move(p);  // still unknown: keep waiting until the deadline
      return;
    } else {
      deny(c, p.head_only, v);
    }
    process(c);
  }

  Result<std::shared_ptr<OpenFile>> open_file(const std::shared_ptr<const IndexedFile>& meta) {
    auto now = Steady::now();
    auto it = files_.find(meta->uid);
    if (it != files_.end()) {
      const OpenFile& f = *it->second;
      if (f.meta->path == meta->path && f.meta->size == meta->size &&
          f.meta->mtime_ns == meta->mtime_ns && now - f.opened < kFileCacheTtl) {
        return it->second;
      }
      files_.erase(it);
    }
    auto h = o_.source.open(*meta);
    if (!h.ok()) return h.status();
    auto f = std::make_shared<OpenFile>();
    f->meta = meta;
    f->handle = std::shared_ptr<ReadHandle>(std::move(h.value()));
    f->fd = f->handle->fd();
    f->size = f->handle->size();
    if (f->size != meta->size) {
      return Status::NotFound("'" + meta->path + "' changed since it was indexed");
    }
    f->opened = now;
    f->etag = "\"" + meta->uid + "\"";
    std::string& fh = f->fixed_headers;
    fh = "Accept-Ranges: bytes\r\nETag: " + f->etag + "\r\n";
    std::string digest = repr_digest_value(meta->alg, meta->uid);
    if (!digest.empty()) fh += "Repr-Digest: " + digest + "\r\n";
    fh += "Content-Disposition: " + content_disposition_value(meta->path) + "\r\n";
    fh += "Cache-Control: private\r\n";
    if (files_.size() >= kFileCacheMax) files_.clear();
    files_.emplace(meta->uid, f);
    return f;
  }

  void serve(Conn& c, const std::shared_ptr<const IndexedFile>& meta, bool head_only,
             std::string_view range, int range_count, std::string_view if_range) {
    auto opened = open_file(meta);
    if (!opened.ok()) {
      if (opened.status().code() == Code::kNotFound) {
        error_response(c, 404, "not_found", "no such file", head_only);
      } else {
        o_.log.warn("data plane: opening '" + meta->path + "': " + opened.status().to_string());
        error_response(c, 500, "io_error", "the file cannot be read", head_only);
      }
      return;
    }
    std::shared_ptr<OpenFile> f = std::move(opened.value());
    std::uint64_t len = f->size;
    RangeHeader::Resolved r;  // kFull
    if (range_count == 1 && (if_range.empty() || if_range == f->etag)) {
      if (auto parsed = RangeHeader::parse(range)) {
        r = parsed->resolve(len, static_cast<std::size_t>(std::max(1, o_.opt.max_ranges)));
      }
    }
    c.chunks.clear();
    if (r.outcome == RangeHeader::Outcome::kUnsatisfiable) {
      std::string extra = "Content-Range: bytes */";
      append_uint(extra, len);
      extra += "\r\n" + f->fixed_headers;
      error_response(c, 416, "range_not_satisfiable", "the range is outside the file", head_only,
                     extra);
      return;
    }
    int status = r.outcome == RangeHeader::Outcome::kPartial ? 206 : 200;
    std::string h = begin_head(status);
    if (r.outcome == RangeHeader::Outcome::kFull || r.ranges.size() == 1) {
      std::uint64_t first = 0;
      std::uint64_t count = len;
      h += "Content-Type: application/octet-stream\r\nContent-Length: ";
      if (status == 206) {
        first = r.ranges[0].first;
        count = r.ranges[0].length();
        append_uint(h, count);
        h += "\r\nContent-Range: bytes ";
        append_uint(h, first);
        h += '-';
        append_uint(h, r.ranges[0].last);
        h += '/';
        append_uint(h, len);
      } else {
        append_uint(h, len);
      }
      h += "\r\n";
      h += f->fixed_headers;
      end_head(c, h);
      c.chunks.push_back(Chunk{std::move(h), 0, 0, false});
      if (!head_only && count > 0) c.chunks.push_back(Chunk{std::string(), first, count, true});
    } else {
      // multipart/byteranges (RFC 9110 §14.6)
      char boundary[40];
      std::uint64_t a = boundary_seed_ ^ (++boundary_counter_ * 0x9E3779B97F4A7C15ull);
      std::snprintf(boundary, sizeof boundary, "dfd%016llx%08x", static_cast<unsigned long long>(a),
                    static_cast<unsigned>(boundary_counter_));
      std::vector<Chunk> body;
      std::uint64_t total = 0;
      bool first_part = true;
      for (const ByteRange& br : r.ranges) {
        std::string part = first_part ? "--" : "\r\n--";
        first_part = false;
        part += boundary;
        part += "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ";
        append_uint(part, br.first);
        part += '-';
        append_uint(part, br.last);
        part += '/';
        append_uint(part, len);
        part += "\r\n\r\n";
        total += part.size() + br.length();
        body.push_back(Chunk{std::move(part), 0, 0, false});
        body.push_back(Chunk{std::string(), br.first, br.length(), true});
      }
      std::string tail = "\r\n--";
      tail += boundary;
      tail += "--\r\n";
      total += tail.size();
      body.push_back(Chunk{std::move(tail), 0, 0, false});
      h += "Content-Type: multipart/byteranges; boundary=";
      h += boundary;
      h += "\r\nContent-Length: ";
      append_uint(h, total);
      h += "\r\n";
      h += f->fixed_headers;
      end_head(c, h);
      c.chunks.push_back(Chunk{std::move(h), 0, 0, false});
      if (!head_only) {
        for (auto& ch : body) c.chunks.push_back(std::move(ch));
      }
    }
    c.file = std::move(f);
    start_response(c, status);
  }

  Impl& o_;
  int index_;
  int ep_ = -1;
  int wake_fd_ = -1;
  int listen_fd_ = -1;
  std::thread thread_;
  std::mutex inbox_mu_;
  std::vector<int> inbox_;
  std::atomic<bool> tokens_changed_{false};
  std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<std::uint64_t> graveyard_;
  std::vector<std::uint64_t> ready_;
  std::vector<std::uint64_t> parked_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<TimerEntry>> timers_;
  std::unordered_map<std::string, std::shared_ptr<OpenFile>> files_;
  std::unordered_map<std::string, SteadyTime> verdicts_;  // "uid\ntoken" → when found valid
  std::string verdict_key_;
  std::unordered_map<int, Counter*> status_counters_;  // this loop's view of the metric family
  std::size_t rr_ = 0;
  SteadyTime accept_paused_until_ = kNever;
  std::time_t date_sec_ = 0;
  std::string date_;
  std::uint64_t boundary_seed_ = 0;
  std::uint64_t boundary_counter_ = 0;
};

// ------------------------------------------------------------------------------------- helpers

bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  auto hexval = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hexval(in[i + 1]);
    int lo = hexval(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::string content_disposition_value(std::string_view path) {
  auto slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::string quoted;
  bool non_ascii = false;
  for (char ch : name) {
    auto u = static_cast<unsigned char>(ch);
    if (u >= 0x80) {
      non_ascii = true;
      quoted += '_';
    } else if (u < 0x20 || u == 0x7f) {
      quoted += '_';
    } else if (ch == '"' || ch == '\\') {
      quoted += '\\';
      quoted += ch;
    } else {
      quoted += ch;
    }
  }
  std::string v = "attachment; filename=\"" + quoted + "\"";
  if (non_ascii) {
    static const char* hex = "0123456789ABCDEF";
    v += "; filename*=UTF-8''";
    for (char ch : name) {
      auto u = static_cast<unsigned char>(ch);
      bool attr = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                  (u < 0x80 && std::strchr("!#$&+-.^_`|~", ch) != nullptr && ch != '\0');
      if (attr) {
        v += ch;
      } else {
        v += '%';
        v += hex[u >> 4];
        v += hex[u & 0xf];
      }
    }
  }
  return v;
}

std::string repr_digest_value(std::string_view alg, std::string_view hex) {
  std::string name;
  std::size_t want = 0;
  if (alg == "sha256") {
    name = "sha-256";
    want = 32;
  } else if (alg == "sha512") {
    name = "sha-512";
    want = 64;
  } else {
    return {};
  }
  if (hex.size() != want * 2) return {};
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto val = [](char ch) -> int {
      if (ch >= '0' && ch <= '9') return ch - '0';
      if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
      if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
      return -1;
    };
    int hi = val(hex[i]);
    int lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    bytes += static_cast<char>(hi * 16 + lo);
  }
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = name + "=:";
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                      static_cast<unsigned char>(bytes[i + 2]);
    out += b64[(n >> 18) & 63];
    out += b64[(n >> 12) & 63];
    out += b64[(n >> 6) & 63];
    out += b64[n & 63];
  }
  if (i + 1 == bytes.size()) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    out += b64[(n >> 18) & 63];
    out += b64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += b64[(n >> 18) & 63];
    out += b64[(n >> 12) & 63];
    out += b64[(n >> 6) & 63];
    out += '=';
  }
  out += ':';
  return out;
}

// ------------------------------------------------------------------------------------- DataPlane

DataPlane::DataPlane(Logger& log, Metrics& metrics, Auth& auth, ContentSource& source,
                     DataPlaneOptions options)
    : impl_(std::make_unique<Impl>(log, metrics, auth, source, std::move(options))) {}

DataPlane::~DataPlane() {
  stop(0);
}

namespace {

// Splits "host:port" / "[v6]:port".
bool split_host_port(const std::string& s, std::string* host, std::string* port) {
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    *host = s.substr(1, close - 1);
    *port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    *host = s.substr(0, colon);
    *port = s.substr(colon + 1);
  }
  if (host->empty() || port->empty()) return false;
  for (char ch : *port) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

}  // namespace

Status DataPlane::start() noexcept {
  return guard("data plane", [&]() -> Status {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> g(m.lifecycle_mu);
    if (m.running.load()) return Status::FailedPrecondition("already started");
    // Ignore SIGPIPE process-wide as a second line of defence (every send uses MSG_NOSIGNAL).
    ::signal(SIGPIPE, SIG_IGN);
    std::string host, port;
    if (!split_host_port(m.opt.listen, &host, &port)) {
      return Status::InvalidArgument("listen address '" + m.opt.listen +
                                     "' is not HOST:PORT (e.g. 127.0.0.1:9101)");
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    addrinfo* res = nullptr;
    int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (gai != 0) {
      return Status::InvalidArgument("listen address '" + m.opt.listen + "': " + gai_strerror(gai));
    }
    int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ::freeaddrinfo(res);
      return Status::IoError("socket: " + errno_text(errno));
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
      int err = errno;
      ::freeaddrinfo(res);
      ::close(fd);
      return Status::IoError("bind " + m.opt.listen + ": " + errno_text(err));
    }
    ::freeaddrinfo(res);
    if (::listen(fd, 4096) != 0) {
      int err = errno;
      ::close(fd);
      return Status::IoError("listen " + m.opt.listen + ": " + errno_text(err));
    }
    sockaddr_storage ss{};
    socklen_t sl = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
    char addr[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET6) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
      ::inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof addr);
      m.bound_port = ntohs(s6->sin6_port);
      m.bound = "[" + std::string(addr) + "]:" + std::to_string(m.bound_port);
    } else {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
      ::inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof addr);
      m.bound_port = ntohs(s4->sin_port);
      m.bound = std::string(addr) + ":" + std::to_string(m.bound_port);
    }
    int n = std::max(1, m.opt.threads);
    m.loops.clear();
    for (int i = 0; i < n; ++i) {
      m.loops.push_back(std::make_unique<Impl::Loop>(m, i));
      Status s = m.loops.back()->init(i == 0 ? fd : -1);  // loop 0 owns fd from here on
      if (!s.ok()) {
        m.loops.clear();
        return s.with_context("data plane");
      }
    }
    m.stopping.store(false);
    m.running.store(true);
    for (auto& l : m.loops) l->start();
    m.log.info("data plane listening on " + m.bound + " with " + std::to_string(n) +
               " event-loop thread(s)");
    return Status::Ok();
  });
}

void DataPlane::stop(int grace_ms) noexcept {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> g(m.lifecycle_mu);
  if (!m.running.exchange(false)) return;
  auto deadline = Steady::now() + std::chrono::milliseconds(std::max(0, grace_ms));
  m.grace_deadline_ns.store(deadline.time_since_epoch().count());
  m.stopping.store(true);
  for (auto& l : m.loops) l->wake();
  for (auto& l : m.loops) l->join();
  // Connections handed over but never picked up are closed by the loops' inbox on destruction.
  m.loops.clear();
}

void DataPlane::notify_tokens_changed() noexcept {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> g(m.lifecycle_mu);
  if (!m.running.load()) return;
  for (auto& l : m.loops) l->post_tokens_changed();
}

std::string DataPlane::bound_address() const {
  return impl_->bound;
}
int DataPlane::port() const noexcept {
  return impl_->bound_port;
}
std::int64_t DataPlane::active_connections() const noexcept {
  return impl_->connections.load();
}
bool DataPlane::running() const noexcept {
  return impl_->running.load();
}

}  // namespace dfd::host
