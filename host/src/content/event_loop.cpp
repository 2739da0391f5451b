#include "content/event_loop.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "content/request_target.hpp"
#include "content/tls_context.hpp"
#include "dfd/wire/bearer.hpp"

namespace dfd::host {

namespace {

using Steady = std::chrono::steady_clock;

constexpr int kRequestsPerTurn = 32;  // pipelined requests per turn
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
constexpr auto kWarnEvery = std::chrono::seconds(10);
constexpr auto kFreshGrace = std::chrono::milliseconds(500);  // see evict_idle()
constexpr std::int64_t kOverCapInFlight = 4;   // accepted sockets travelling to a loop at the cap
constexpr std::uint64_t kDescriptorSlack = 8;  // "out of descriptors" when this close to the limit

// Tags for epoll data.ptr of the non-connection descriptors.
char kListenTag;
char kWakeTag;

std::string errno_text(int err) {
  char buf[128];
  return std::string(strerror_r(err, buf, sizeof buf));
}

}  // namespace

EventLoop::EventLoop(PlaneContext& ctx, int index)
    : ctx_(ctx),
      index_(index),
      owns_listener_(index == 0),
      files_(ctx.source, ctx.budget.file_cache),
      gate_(ctx.auth),
      writer_(ctx.log) {}

EventLoop::~EventLoop() {
  for (auto& [fd, address] : inbox_) ::close(fd);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (ep_ >= 0) ::close(ep_);
}

Status EventLoop::init() {
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
  if (owns_listener_) {
    ev.events = EPOLLIN;
    ev.data.ptr = &kListenTag;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, ctx_.listener.fd(), &ev) != 0) {
      return Status::IoError("epoll_ctl(listen): " + errno_text(errno));
    }
  }
  return Status::Ok();
}

void EventLoop::start() {
  thread_ = std::thread([this] { run(); });
}
void EventLoop::join() {
  if (thread_.joinable()) thread_.join();
}

void EventLoop::wake() noexcept {
  std::uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof one);
  (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake anyway
}
void EventLoop::post_tokens_changed() noexcept {
  tokens_changed_.store(true);
  wake();
}
void EventLoop::hand_over(int fd, std::string address) {
  {
    std::lock_guard<std::mutex> g(inbox_mu_);
    inbox_.emplace_back(fd, std::move(address));
  }
  wake();
}

// --------------------------------------------------------------------------------- the loop

void EventLoop::run() {
  std::vector<epoll_event> events(256);
  bool stop_seen = false;
  while (true) {
    if (ctx_.stopping.load() && !stop_seen) {
      stop_seen = true;
      begin_stop();
      bury();
    }
    if (stop_seen) {
      if (conns_.empty()) break;
      if (Steady::now().time_since_epoch().count() >= ctx_.grace_deadline_ns.load()) break;
    }
    int timeout = ready_.empty() ? wait_timeout_ms(stop_seen) : 0;
    int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      ctx_.log.error("data plane: epoll_wait: " + errno_text(errno));
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
    hand_access_lines();
    if (accept_paused_until_ != kNever && Steady::now() >= accept_paused_until_) {
      resume_accepting();
    }
  }
  for (auto& kv : conns_) close_conn(*kv.second);
  bury();
  hand_access_lines();
  files_.clear();
}

int EventLoop::wait_timeout_ms(bool stop_seen) {
  SteadyTime next = timers_.empty() ? kNever : timers_.top().t;
  next = std::min(next, accept_paused_until_);
  if (stop_seen) {
    SteadyTime grace{Steady::duration(ctx_.grace_deadline_ns.load())};
    next = std::min(next, grace);
  }
  if (next == kNever) return -1;
  auto now = Steady::now();
  if (next <= now) return 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
  return static_cast<int>(std::min<long long>(ms, 60 * 60 * 1000));
}

void EventLoop::begin_stop() {
  if (owns_listener_ && ctx_.listener.fd() >= 0) {
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, ctx_.listener.fd(), nullptr);
    ctx_.listener.close();
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

void EventLoop::on_wake() {
  std::uint64_t v;
  while (::read(wake_fd_, &v, sizeof v) > 0) {
  }
  std::vector<std::pair<int, std::string>> fds;
  {
    std::lock_guard<std::mutex> g(inbox_mu_);
    fds.swap(inbox_);
  }
  for (auto& [fd, address] : fds) add_conn(fd, std::move(address));
  if (tokens_changed_.exchange(false)) {
    gate_.forget();
    recheck_parked();
  }
}

void EventLoop::on_accept() {
  // Accept a bounded batch; the listener is level-triggered so more will be reported.
  for (int i = 0; i < 64; ++i) {
    int fd = -1;
    sockaddr_storage peer{};
    switch (ctx_.listener.accept(&fd, &peer)) {
      case Listener::Outcome::kEmpty:
        return;
      case Listener::Outcome::kShed:
        ctx_.refusal_counter("descriptors").add(1);
        ++descriptors_shed_;
        warn_descriptors();
        continue;
      case Listener::Outcome::kPause:
        // The listener would stay readable and spin this loop: take it out for a moment.
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, ctx_.listener.fd(), nullptr);
        accept_paused_until_ = Steady::now() + kAcceptPause;
        warn_descriptors();
        return;
      case Listener::Outcome::kAccepted:
        break;
    }
    // At the cap, only a few sockets at a time travel to a loop to evict or be refused there;
    // the rest are closed here, so a burst cannot take the descriptors the cap leaves for files.
    auto cap = static_cast<std::int64_t>(ctx_.budget.max_connections);
    auto admitted = static_cast<std::int64_t>(ctx_.connection_quota->total());
    if (admitted + ctx_.handing_over.load() >= cap + kOverCapInFlight) {
      ::close(fd);
      ctx_.refusal_counter("connections_total").add(1);
      continue;
    }
    ctx_.handing_over.fetch_add(1);
    std::size_t target = rr_++ % ctx_.loops.size();
    if (target == static_cast<std::size_t>(index_)) {
      add_conn(fd, address_key(peer));
    } else {
      ctx_.loops[target]->hand_over(fd, address_key(peer));
    }
  }
}

void EventLoop::resume_accepting() {
  accept_paused_until_ = kNever;
  if (ctx_.listener.fd() < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &kListenTag;
  ::epoll_ctl(ep_, EPOLL_CTL_ADD, ctx_.listener.fd(), &ev);
}

// Out of descriptors: one line per 10 s at most, however hard the listener is hammered.
void EventLoop::warn_descriptors() {
  auto now = Steady::now();
  // min() means "never warned" (now - min() would overflow).
  if (descriptors_warned_ != SteadyTime::min() && now - descriptors_warned_ < kWarnEvery) return;
  descriptors_warned_ = now;
  ctx_.log.warn("data plane: out of file descriptors (limit " + std::to_string(descriptor_limit()) +
                "); " + std::to_string(descriptors_shed_) +
                " pending connection(s) closed unanswered since the last warning");
  descriptors_shed_ = 0;
}

// ------------------------------------------------------------------------------ connections

void EventLoop::add_conn(int fd, std::string address) {
  ctx_.handing_over.fetch_sub(1);
  if (ctx_.stopping.load()) {
    ::close(fd);
    return;
  }
  auto c = std::make_unique<Conn>();
  c->fd = fd;
  c->serial = ++ctx_.next_serial;
  c->address = std::move(address);
  c->head_start = Steady::now();
  if (!admit(*c)) {
    ::close(fd);  // over a cap and over the refusal budget: a plain close
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // The caps above are applied before any TLS work: a refused or evicted connection costs no
  // handshake, and a handshake is bounded by header_timeout_s like a request head.
  if (ctx_.tls) {
    c->io = ctx_.tls->session(fd);
  } else {
    c->io = std::make_unique<PlainTransport>(fd);
    c->handshaken = true;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = c.get();
  if (!c->io || ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ctx_.log.warn(c->io ? "data plane: epoll_ctl(add): " + errno_text(errno)
                        : std::string("data plane: cannot allocate a TLS session"));
    c->io.reset();
    c->closed = true;  // never registered: undo the admission by hand
    if (c->admitted) ctx_.connection_quota->release(c->address);
    if (c->refusing) ctx_.refusing.fetch_sub(1);
    ::close(fd);
    return;
  }
  Conn* raw = c.get();
  conns_.emplace(raw->serial, std::move(c));
  ctx_.connections.fetch_add(1);
  ctx_.active.add(1);
  if (raw->refusing) {
    raw->keep_alive = false;
    begin_request(*raw, {}, {}, {});
    error_response(*raw, 503, "unavailable", "too many connections; retry later", false,
                   "Retry-After: 1\r\n");
  } else {
    raw->buf.reset(new char[ctx_.opt.max_head]);
    set_state(*raw, ConnState::kReading);
    set_deadline(*raw, reading_deadline(*raw));
  }
  process(*raw);  // the request may already be there
}

// Takes a unit of the connection quota, closing an idle connection of this loop to make room if
// needed; else a refusal slot. False: neither (the caller closes the socket).
bool EventLoop::admit(Conn& c) {
  AddressQuota& quota = *ctx_.connection_quota;
  AddressQuota::Verdict v = quota.acquire(c.address);
  if (v != AddressQuota::Verdict::kAdmitted &&
      evict_idle(v == AddressQuota::Verdict::kOverAddress ? &c.address : nullptr)) {
    v = quota.acquire(c.address);
  }
  if (v == AddressQuota::Verdict::kAdmitted) {
    c.admitted = true;
    return true;
  }
  ctx_.refusal_counter(v == AddressQuota::Verdict::kOverAddress ? "connections_per_address"
                                                                : "connections_total")
      .add(1);
  if (ctx_.refusing.fetch_add(1) >= static_cast<std::int64_t>(ctx_.budget.max_refusing)) {
    ctx_.refusing.fetch_sub(1);
    return false;
  }
  c.refusing = true;
  return true;
}

// Closes this loop's oldest connection that waits for a request (of `address`, when given):
// first one that was already answered (a keep-alive connection between requests), else one that
// has not completed its first request but had kFreshGrace to send it. A younger one is spared:
// its request is probably on the way (in a burst, evicting it would only trade it for the next).
bool EventLoop::evict_idle(const std::string* address) {
  SteadyTime fresh_before = Steady::now() - kFreshGrace;
  for (bool answered : {true, false}) {
    for (Conn* c : idle_) {
      if (c->served_any != answered || (address != nullptr && c->address != *address)) continue;
      if (!answered && c->head_start > fresh_before) break;  // the rest are younger still
      close_conn(*c);
      ctx_.evicted.add(1);
      return true;
    }
  }
  return false;
}

void EventLoop::on_conn_event(Conn& c, std::uint32_t ev) {
  if (c.closed) return;
  if (ev & EPOLLERR) {
    close_conn(c);
    return;
  }
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) c.readable = true;
  if ((ev & (EPOLLHUP | EPOLLRDHUP)) && c.state == ConnState::kParked) {
    // The client closed while its request waits for the token (as nginx does for a client that
    // goes away during a wait): drop it at once so it does not hold a parked place.
    close_conn(c);
    return;
  }
  process(c);
}

void EventLoop::close_conn(Conn& c) {
  if (c.closed) return;
  c.closed = true;
  if (c.access_pending) log_access(c, false);  // before flush_body_bytes() zeroes the count
  set_state(c, ConnState::kLingering);         // leaves the idle list
  c.io.reset();                                // the TLS session first: it refers to the socket
  ::close(c.fd);
  c.fd = -1;
  flush_body_bytes(c);
  release_parked(c);
  if (c.admitted) ctx_.connection_quota->release(c.address);
  if (c.refusing) ctx_.refusing.fetch_sub(1);
  c.admitted = c.refusing = false;
  c.file.reset();
  writer_.release_stage(c);
  c.pieces.clear();
  ctx_.connections.fetch_sub(1);
  ctx_.active.add(-1);
  graveyard_.push_back(c.serial);
}

void EventLoop::bury() {
  for (std::uint64_t s : graveyard_) conns_.erase(s);
  graveyard_.clear();
}

Conn* EventLoop::find_conn(std::uint64_t serial) {
  auto it = conns_.find(serial);
  if (it == conns_.end() || it->second->closed) return nullptr;
  return it->second.get();
}

// Moves a connection to state `s`, keeping the idle list (connections in kReading) in order of
// when they started waiting.
void EventLoop::set_state(Conn& c, ConnState s) {
  if (s == ConnState::kReading && !c.in_idle_list && !c.closed) {
    c.idle_pos = idle_.insert(idle_.end(), &c);
    c.in_idle_list = true;
  } else if (s != ConnState::kReading && c.in_idle_list) {
    idle_.erase(c.idle_pos);
    c.in_idle_list = false;
  }
  c.state = s;
}

// ------------------------------------------------------------------------------------ timers

void EventLoop::set_deadline(Conn& c, SteadyTime t) {
  c.deadline = t;
  if (t < c.heap_time) {
    timers_.push({t, c.serial});
    c.heap_time = t;
  }
}

void EventLoop::run_timers(SteadyTime now) {
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

void EventLoop::on_timeout(Conn& c) {
  if (c.state == ConnState::kParked) {
    resolve_parked(c, /*final=*/true);
    return;
  }
  if (c.state == ConnState::kWriting && ctx_.log.enabled(LogLevel::kDebug)) {
    ctx_.log.debug("data plane: send timeout, closing a connection");
  }
  close_conn(c);
}

// Between requests a keep-alive connection may idle for idle_timeout_s; a head (and the first
// request of a new connection) must arrive within header_timeout_s of its start, so a client
// trickling bytes (slowloris) cannot hold a connection.
SteadyTime EventLoop::reading_deadline(const Conn& c) const {
  if (c.len == 0 && c.served_any) {
    return Steady::now() + std::chrono::seconds(ctx_.opt.idle_timeout_s);
  }
  int head_s = std::min(ctx_.opt.header_timeout_s, ctx_.opt.idle_timeout_s);
  return c.head_start + std::chrono::seconds(head_s);
}

// --------------------------------------------------------------------------------------- I/O

// Reads what is available into the head buffer. False when the connection must close.
bool EventLoop::read_in(Conn& c) {
  std::size_t cap = ctx_.opt.max_head;
  while (c.readable && c.len < cap && !c.peer_eof) {
    Io r = c.io->read(c.buf.get() + c.len, cap - c.len);
    switch (r.outcome) {
      case IoOutcome::kOk:
        if (c.len == 0 && c.served_any) c.head_start = Steady::now();
        c.len += r.n;
        if (r.drained) c.readable = false;  // edge-triggered: wait for the next input edge
        return true;
      case IoOutcome::kEof:
        c.peer_eof = true;
        c.readable = false;
        return true;
      case IoOutcome::kWouldBlock:
        c.readable = false;
        return true;
      case IoOutcome::kError:
        return false;  // ECONNRESET, a TLS protocol error, ...
    }
  }
  return true;
}

// Drives a TLS handshake (readiness-driven: WANT_READ/WANT_WRITE wait for the next edge). False
// while it is not complete (the connection waits, at most until its head deadline) or when it
// failed (the connection is closed: a plain-text request, garbage, a reset).
bool EventLoop::handshake(Conn& c) {
  Io r = c.io->handshake();
  if (r.outcome == IoOutcome::kWouldBlock) {
    int head_s = std::min(ctx_.opt.header_timeout_s, ctx_.opt.idle_timeout_s);
    set_deadline(c, c.head_start + std::chrono::seconds(head_s));
    return false;
  }
  if (r.outcome != IoOutcome::kOk) {
    ctx_.tls_failures.add(1);
    close_conn(c);
    return false;
  }
  c.handshaken = true;
  c.readable = true;  // the request may have come with the client's last handshake flight
  ctx_.count_tls_connection(c.io->zero_copy());
  return true;
}

void EventLoop::flush_body_bytes(Conn& c) {
  if (c.body_bytes > 0) {
    ctx_.bytes_sent.add(static_cast<double>(c.body_bytes));
    c.body_bytes = 0;
  }
}

void EventLoop::run_ready() {
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

// Continue this connection on the next turn (after the other connections of the loop).
void EventLoop::enqueue(Conn& c) {
  if (!c.queued) {
    c.queued = true;
    ready_.push_back(c.serial);
  }
}

// Drives one connection as far as it can go without blocking (and without starving the others:
// at most kTurnBudget file bytes and kRequestsPerTurn pipelined requests per turn).
void EventLoop::process(Conn& c) {
  int requests = 0;
  while (!c.closed) {
    if (!c.handshaken && !handshake(c)) return;
    switch (c.state) {
      case ConnState::kWriting: {
        WriteResult r = writer_.write(c);
        if (r == WriteResult::kBlocked || r == WriteResult::kYield) {
          set_deadline(c, Steady::now() + std::chrono::seconds(ctx_.opt.send_timeout_s));
          if (r == WriteResult::kYield) enqueue(c);
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
          HeadParse p = parse_request_head(c.buf.get(), c.len, ctx_.opt.max_head, &head, &consumed);
          if (p == HeadParse::kComplete) {
            if (++requests > kRequestsPerTurn) {
              enqueue(c);
              return;
            }
            handle_request(c, head);
            consume(c, consumed);
            continue;
          }
          if (p != HeadParse::kIncomplete) {
            c.len = 0;
            c.keep_alive = false;
            begin_request(c, {}, {}, {});
            if (p == HeadParse::kTooLarge) {
              error_response(c, 431, "request_too_large", "request head exceeds the limit", false);
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
          if (ctx_.stopping.load() && c.len == 0) {
            close_conn(c);
            return;
          }
          set_deadline(c, reading_deadline(c));
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

void EventLoop::consume(Conn& c, std::size_t n) {
  if (n >= c.len) {
    c.len = 0;
  } else {
    std::memmove(c.buf.get(), c.buf.get() + n, c.len - n);
    c.len -= n;
    c.head_start = Steady::now();  // the next (pipelined) head starts now
  }
}

void EventLoop::finish_response(Conn& c) {
  if (c.access_pending) log_access(c, true);  // before flush_body_bytes() zeroes the count
  flush_body_bytes(c);
  c.pieces.clear();
  c.piece = 0;
  c.sent = 0;
  c.file.reset();
  writer_.release_stage(c);
  c.served_any = true;
  if (!c.keep_alive || ctx_.stopping.load()) {
    c.io->shutdown_write();
    set_state(c, ConnState::kLingering);
    c.readable = true;
    set_deadline(c, Steady::now() + kLingerTime);
    return;
  }
  set_state(c, ConnState::kReading);
  set_deadline(c, reading_deadline(c));
}

// ---------------------------------------------------------------------------------- requests

void EventLoop::respond(Conn& c, BuiltResponse r, std::shared_ptr<OpenFile> file) {
  c.status = r.status;
  c.pieces = std::move(r.pieces);
  c.piece = 0;
  c.sent = 0;
  c.file = std::move(file);
  set_state(c, ConnState::kWriting);
  auto it = status_counters_.find(r.status);
  if (it == status_counters_.end()) {
    it = status_counters_.emplace(r.status, &ctx_.status_counter(r.status)).first;
  }
  it->second->add(1);
}

void EventLoop::error_response(Conn& c, int status, std::string_view code, std::string_view message,
                               bool head_only, std::string_view extra_headers) {
  respond(c, builder_.error(status, code, message, head_only, connection_header(c), extra_headers));
}

void EventLoop::deny(Conn& c, bool head_only, TokenVerdict v) {
  std::string reason = verdict_name(v);
  ctx_.denial_counter(reason).add(1);
  error_response(c, 403, "permission_denied", "download token refused: " + reason, head_only,
                 "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
}

// The order of the checks is the contract of docs/file-server.md ("Semantics"): the token is
// checked for the uid before the uid is looked up, so that nothing about which files this server
// holds is revealed without a valid token.
void EventLoop::handle_request(Conn& c, const RequestHead& req) {
  c.http10 = req.version_minor == 0;
  bool keep = req.version_minor >= 1 ? !req.connection_close
                                     : (req.connection_keep_alive && !req.connection_close);
  if (req.has_body || req.bad_content_length) keep = false;  // we never read request bodies
  if (ctx_.stopping.load()) keep = false;
  c.keep_alive = keep;
  bool head_only = req.method == "HEAD";
  begin_request(c, req.method, req.target, req.request_id);

  if (req.bad_content_length) {
    error_response(c, 400, "bad_request", "malformed Content-Length", head_only);
    return;
  }
  std::string uid;
  ContentTarget target = content_uid_of(req.target, &uid);
  if (target == ContentTarget::kNotContent) {
    error_response(c, 404, "not_found", "no such endpoint", head_only);
    return;
  }
  if (req.method != "GET" && !head_only) {
    error_response(c, 405, "method_not_allowed", "only GET and HEAD are allowed", false,
                   "Allow: GET, HEAD\r\n");
    return;
  }
  if (req.authorization_count > 1) {
    error_response(c, 400, "bad_request", "more than one Authorization field", head_only);
    return;
  }
  wire::BearerCredentials credentials = wire::parse_bearer(req.authorization);
  std::string_view token = credentials.token;  // a malformed one is refused by gate_.check
  if (credentials.form == wire::BearerCredentials::Form::kNone) {
    ctx_.denial_counter("missing").add(1);
    error_response(c, 401, "unauthenticated",
                   "a download token is required (Authorization: Bearer)", head_only,
                   "WWW-Authenticate: Bearer\r\n");
    return;
  }
  if (target == ContentTarget::kBadEscape) {  // the same for every server: reveals nothing
    error_response(c, 404, "not_found", "no such file", head_only);
    return;
  }
  RangeRequest rr{req.range, req.range_count, req.if_range};
  TokenVerdict v = gate_.check(token, uid);
  if (v == TokenVerdict::kValid) {
    lookup_and_serve(c, uid, head_only, rr);
    return;
  }
  if (v == TokenVerdict::kUnknown && ctx_.opt.token_wait_ms > 0 && !ctx_.stopping.load()) {
    park(c, head_only, std::move(uid), token, req);
    return;
  }
  deny(c, head_only, v);
}

// Only a request whose token is valid for `uid` gets here: it may learn that the file is absent.
void EventLoop::lookup_and_serve(Conn& c, const std::string& uid, bool head_only,
                                 const RangeRequest& rr) {
  auto meta = ctx_.source.find(uid);
  if (!meta) {
    error_response(c, 404, "not_found", "no such file", head_only);
    return;
  }
  if (c.access_pending) c.access_file = meta;
  auto opened = files_.get(meta);
  if (!opened.ok()) {
    if (opened.status().code() == Code::kNotFound) {
      error_response(c, 404, "not_found", "no such file", head_only);
    } else if (open_descriptors() + kDescriptorSlack >= descriptor_limit()) {
      // Out of descriptors for a moment (connections are capped below the limit, but a burst of
      // accepts and refusals can touch it): a temporary condition, not a broken file.
      ctx_.refusal_counter("descriptors").add(1);
      warn_descriptors();
      error_response(c, 503, "unavailable", "out of resources; retry later", head_only,
                     "Retry-After: 1\r\n");
    } else {
      ctx_.log.warn("data plane: opening '" + meta->path + "': " + opened.status().to_string() +
                    " (request " + std::string(c.request_id.view()) + ")");
      error_response(c, 500, "io_error", "the file cannot be read", head_only);
    }
    return;
  }
  std::shared_ptr<OpenFile> f = std::move(opened.value());
  auto max_ranges = static_cast<std::size_t>(std::max(1, ctx_.opt.max_ranges));
  respond(c, builder_.file(*f, rr, max_ranges, head_only, connection_header(c)), f);
}

// Parks a request whose token is not known yet (its token.issued event may be in flight), within
// the parked-request caps; over a cap → 503 at once. False when refused.
bool EventLoop::park(Conn& c, bool head_only, std::string uid, std::string_view token,
                     const RequestHead& req) {
  AddressQuota::Verdict q = ctx_.parked_quota->acquire(c.address);
  if (q != AddressQuota::Verdict::kAdmitted) {
    ctx_.refusal_counter(q == AddressQuota::Verdict::kOverAddress ? "parked_per_address"
                                                                  : "parked_total")
        .add(1);
    error_response(c, 503, "unavailable",
                   "too many requests are waiting for their download token; retry later", head_only,
                   "Retry-After: 1\r\n");
    return false;
  }
  c.parked_counted = true;
  ctx_.parked.add(1);
  c.parked.head_only = head_only;
  c.parked.uid = std::move(uid);
  c.parked.token.assign(token.data(), token.size());
  c.parked.range.assign(req.range.data(), req.range.size());
  c.parked.if_range.assign(req.if_range.data(), req.if_range.size());
  c.parked.range_count = req.range_count;
  set_state(c, ConnState::kParked);
  parked_.push_back(c.serial);
  set_deadline(c, Steady::now() + std::chrono::milliseconds(ctx_.opt.token_wait_ms));
  return true;
}

void EventLoop::release_parked(Conn& c) {
  if (!c.parked_counted) return;
  c.parked_counted = false;
  ctx_.parked_quota->release(c.address);
  ctx_.parked.add(-1);
}

// Re-checks parked requests after a token event.
void EventLoop::recheck_parked() {
  std::vector<std::uint64_t> list;
  list.swap(parked_);
  for (std::uint64_t s : list) {
    Conn* c = find_conn(s);
    if (c == nullptr || c->state != ConnState::kParked) continue;
    resolve_parked(*c, false);
    if (!c->closed && c->state == ConnState::kParked) parked_.push_back(s);
  }
}

// Re-verifies a parked request (with `final`, at its deadline: still unknown → 403).
void EventLoop::resolve_parked(Conn& c, bool final) {
  ParkedRequest p = std::move(c.parked);
  c.parked = ParkedRequest();
  TokenVerdict v = gate_.check(p.token, p.uid);
  if (v == TokenVerdict::kUnknown && !final && !ctx_.stopping.load()) {
    c.parked = std::move(p);  // still unknown: keep waiting until the deadline
    return;
  }
  release_parked(c);
  if (v == TokenVerdict::kValid) {
    lookup_and_serve(c, p.uid, p.head_only, RangeRequest{p.range, p.range_count, p.if_range});
  } else {
    deny(c, p.head_only, v);
  }
  process(c);
}

// ------------------------------------------------------------------- request ids, access log

void EventLoop::begin_request(Conn& c, std::string_view method, std::string_view target,
                              std::string_view given_id) {
  request_ids_.assign(c.request_id, given_id);
  if (!ctx_.access_log) return;
  c.access_pending = true;
  c.request_start = Steady::now();
  c.status = 0;
  c.access_method.assign(method.substr(0, kMaxMethodChars));
  c.access_target.assign(target_path(target).substr(0, kMaxPathChars));
  c.access_file.reset();
}

void EventLoop::log_access(Conn& c, bool complete) {
  c.access_pending = false;
  if (c.remote_text.empty()) c.remote_text = address_text(c.address);
  AccessEntry e;
  e.time = log_time_.format(std::chrono::system_clock::now());
  e.request_id = c.request_id.view();
  e.remote = c.remote_text;
  e.method = c.access_method;
  e.target = c.access_target;
  e.status = c.status;
  e.bytes = c.body_bytes;
  e.duration_ms =
      std::chrono::duration<double, std::milli>(Steady::now() - c.request_start).count();
  e.complete = complete;
  if (c.access_file) {
    e.file_id = c.access_file->uid;
    e.file_name = c.access_file->path;
  }
  append_access_line(access_lines_, e);
  c.access_file.reset();
  constexpr std::size_t kHandOverBytes = 64 * 1024;  // a long turn hands over early
  if (access_lines_.size() >= kHandOverBytes) hand_access_lines();
}

void EventLoop::hand_access_lines() {
  if (!access_lines_.empty() && ctx_.access_log) ctx_.access_log->submit(access_lines_);
}

}  // namespace dfd::host
