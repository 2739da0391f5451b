#include "control_plane.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/http_headers.h>
#include <pistache/net.h>
#include <pistache/peer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>

#include "bounded_http_handler.hpp"
#include "request_id.hpp"
#include "tls_listener.hpp"

namespace dfd::host {
namespace Http = Pistache::Http;

namespace {

// A response header with a name known only at run time. Pistache 0.0.5 silently drops headers
// added with addRaw(); typed headers are written.
class DynamicHeader final : public Http::Header::Header {
 public:
  DynamicHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override {
    return Http::Header::detail::hash(name_.c_str());
  }
#endif

 private:
  std::string name_;
  std::string value_;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_managed_header(const std::string& lower_name) {
  return lower_name == "content-length" || lower_name == "content-type" ||
         lower_name == "connection" || lower_name == "transfer-encoding" ||
         lower_name == "x-request-id";  // issue 14: the host's (request_id.hpp)
}

// Issue 14: the request's id: its X-Request-Id when valid, else a fresh one (request_id.hpp).
RequestId request_id_of(const Http::Request& req) {
  thread_local RequestIdGenerator ids;  // one per reactor thread
  RequestId id;
  auto given = req.headers().tryGetRaw("X-Request-Id");
  ids.assign(id, given ? std::string_view(given->value()) : std::string_view());
  return id;
}

}  // namespace

struct ControlPlane::State {
  RouteTable& routes;
  MetricsRegistry& metrics;
  std::shared_ptr<spdlog::logger> log;
  Gauge& in_flight_gauge;
  std::atomic<bool> draining{false};
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;

  State(RouteTable& r, MetricsRegistry& m, std::shared_ptr<spdlog::logger> l)
      : routes(r),
        metrics(m),
        log(std::move(l)),
        in_flight_gauge(
            m.gauge("dfd_http_requests_in_flight", "Control-plane requests being handled now")) {}

  void begin() {
    std::lock_guard<std::mutex> lock(mu);
    ++in_flight;
    in_flight_gauge.add(1);
  }
  void end() {
    {
      std::lock_guard<std::mutex> lock(mu);
      --in_flight;
      in_flight_gauge.add(-1);
    }
    cv.notify_all();
  }
};

namespace {

// Counts a connection closed by a limit (dfd_http_connections_refused_total{reason}).
std::function<void(const std::string&)> refusal_counter(
    const std::shared_ptr<ControlPlane::State>& state) {
  return [st = state](const std::string& reason) {
    st->metrics
        .counter("dfd_http_connections_refused_total",
                 "Control-plane connections closed by a limit", {{"reason", reason}})
        .add();
  };
}

class DispatchHandler final : public BoundedHttpHandler {
 public:
  HTTP_PROTOTYPE(DispatchHandler)

  DispatchHandler(std::shared_ptr<ControlPlane::State> state, FramerLimits limits,
                  std::shared_ptr<ConnectionLimiter> limiter)
      : BoundedHttpHandler(limits, std::move(limiter), refusal_counter(state)),
        state_(std::move(state)) {}

  void onRequest(const Http::Request& req, Http::ResponseWriter writer) override {
    auto st = state_;
    st->begin();
    auto t0 = std::chrono::steady_clock::now();
    HttpResponse resp;
    std::string route = "unmatched";
    const std::string method = Http::methodString(req.method());
    const RequestId rid = request_id_of(req);
    bool close = false;
    try {
      if (st->draining.load()) {
        set_json_error(resp, 503, "unavailable", "server is shutting down");
        close = true;
      } else {
        auto m = st->routes.match(method, req.resource());
        if (m.status == 404) {
          set_json_error(resp, 404, "not_found", "no route for " + method + " " + req.resource());
        } else if (m.status == 405) {
          std::string allow;
          for (const auto& a : m.allow) allow += (allow.empty() ? "" : ", ") + a;
          set_json_error(
              resp, 405, "method_not_allowed",
              method + " is not allowed on " + req.resource() + " (allowed: " + allow + ")");
          resp.headers.emplace_back("Allow", allow);
          route = m.pattern.empty() ? route : m.pattern;
        } else {
          route = m.pattern;
          HttpRequest hr = to_request(req, method);
          hr.params = std::move(m.params);
          hr.headers["x-request-id"] = std::string(rid.view());  // the effective id
          try {
            (*m.handler)(hr, resp);
          } catch (const std::exception& e) {
            st->log->error("handler {} {} threw: {} (request {})", method, route, e.what(),
                           rid.view());
            resp = HttpResponse{};
            set_json_error(resp, 500, "internal", "internal error");
          } catch (...) {
            st->log->error("handler {} {} threw a non-standard exception (request {})", method,
                           route, rid.view());
            resp = HttpResponse{};
            set_json_error(resp, 500, "internal", "internal error");
          }
        }
      }
      send(req, writer, resp, close, st, method, route, t0, rid.view());
    } catch (const std::exception& e) {
      st->log->error("{} {}: cannot answer: {} (request {})", method, req.resource(), e.what(),
                     rid.view());
      st->end();
    } catch (...) {
      st->log->error("{} {}: cannot answer (request {})", method, req.resource(), rid.view());
      st->end();
    }
  }

 private:
  static HttpRequest to_request(const Http::Request& req, const std::string& method) {
    HttpRequest hr;
    hr.method = method;
    hr.path = req.resource();
    const auto& q = req.query();
    for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it) {
      hr.query[percent_decode(it->first, true)] = percent_decode(it->second, true);
    }
    for (const auto& h : req.headers().list()) {
      std::ostringstream os;
      h->write(os);
      hr.headers[lower(h->name())] = os.str();
    }
    for (const auto& [name, raw] : req.headers().rawList()) {
      hr.headers[lower(name)] = raw.value();
    }
    hr.body = req.body();
    hr.peer = req.address().host();
    return hr;
  }

  static void send(const Http::Request& req, Http::ResponseWriter& writer, const HttpResponse& resp,
                   bool close, const std::shared_ptr<ControlPlane::State>& st,
                   const std::string& method, const std::string& route,
                   std::chrono::steady_clock::time_point t0, std::string_view request_id) {
    writer.headers().add(std::make_shared<DynamicHeader>("X-Request-Id", std::string(request_id)));
    for (const auto& [name, value] : resp.headers) {
      // Managed by the server, or unsafe (a CR/LF would split the response).
      if (is_managed_header(lower(name)) || name.empty() ||
          name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        continue;
      }
      writer.headers().add(std::make_shared<DynamicHeader>(name, value));
    }
    // Pistache closes the connection unless the request said "Connection: keep-alive"; HTTP/1.1
    // is persistent by default, so keep it open unless the client asked otherwise.
    auto conn = req.headers().tryGet<Http::Header::Connection>();
    bool keep = !close && (conn ? conn->control() == Http::ConnectionControl::KeepAlive
                                : req.version() == Http::Version::Http11);
    writer.headers().remove<Http::Header::Connection>();
    writer.headers().add<Http::Header::Connection>(keep ? Http::ConnectionControl::KeepAlive
                                                        : Http::ConnectionControl::Close);
    Http::Mime::MediaType mime;
    if (!resp.content_type.empty()) {
      try {
        mime = Http::Mime::MediaType::fromString(resp.content_type);
      } catch (...) {
        mime = Http::Mime::MediaType::fromString("application/octet-stream");
      }
    }
    if (resp.status < 100 || resp.status > 599) {
      st->log->error("{} {}: handler set invalid status {} (request {})", method, route,
                     resp.status, request_id);
      HttpResponse bad;
      set_json_error(bad, 500, "internal", "internal error");
      writer.headers().clear();
      send(req, writer, bad, close, st, method, route, t0, request_id);
      return;
    }
    const std::string status = std::to_string(resp.status);
    const std::size_t bytes = resp.body.size();
    st->metrics
        .counter("dfd_http_requests_total", "Control-plane HTTP requests by route and status",
                 {{"method", method}, {"route", route}, {"status", status}})
        .add();
    st->metrics
        .counter("dfd_http_response_bytes_total", "Control-plane response body bytes by route",
                 {{"route", route}})
        .add(static_cast<double>(bytes));
    st->metrics
        .histogram("dfd_http_request_duration_seconds", "Control-plane request handling time",
                   {0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10}, {{"route", route}})
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (st->log->should_log(spdlog::level::debug)) {
      st->log->debug(
          "{} {} {} {} bytes {:.3f} ms (request {})", method, req.resource(), status, bytes,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
          request_id);
    }
    // Pistache 0.0.5 never closes a connection itself, whatever the Connection header says: once
    // a "Connection: close" response is written, end the connection (the peer's EOF follows).
    std::weak_ptr<Pistache::Tcp::Peer> peer = writer.peer();
    auto sent = writer.send(static_cast<Http::Code>(resp.status), resp.body, mime);
    sent.then(
        [st, peer, keep](ssize_t) {
          if (auto p = peer.lock()) response_written(*p, !keep);
          st->end();
        },
        [st, peer](std::exception_ptr) {
          if (auto p = peer.lock()) response_written(*p, true);
          st->end();
        });
  }

  std::shared_ptr<ControlPlane::State> state_;
};

}  // namespace

ConnectionCaps effective_connection_caps(const ServerOptions& options) {
  ConnectionCaps caps{static_cast<std::size_t>(options.max_connections),
                      static_cast<std::size_t>(options.max_connections_per_address)};
  // Accepting past the descriptor limit fails (EMFILE) for everyone, and the data plane, the
  // databases and the broker need descriptors too: this listener keeps at most half of them.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    caps.total = std::min<std::size_t>(caps.total, std::max<rlim_t>(nofile.rlim_cur / 2, 2));
  }
  // One address never holds the whole listener.
  caps.per_address = std::min(caps.per_address, std::max<std::size_t>(caps.total / 2, 1));
  return caps;
}

ControlPlane::ControlPlane(const ServerOptions& options, RouteTable& routes,
                           MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log)
    : options_(options),
      routes_(routes),
      state_(std::make_shared<State>(routes, metrics, std::move(log))) {}

ControlPlane::~ControlPlane() {
  shutdown();
}

Status ControlPlane::bind() {
  return guard("control plane", [&]() -> Status {
    auto colon = options_.listen.rfind(':');
    std::string host = options_.listen.substr(0, colon);
    int port = std::stoi(options_.listen.substr(colon + 1));
    // Pistache binds inside serveThreaded() (a second bind() fails), so probe the address with a
    // plain socket first: "address in use" is reported before any plugin starts.
    {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      bool ok = ::inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1 || host == "localhost";
      if (host == "localhost") a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      int rc = ok ? ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) : -1;
      int err = ok ? errno : EINVAL;
      ::close(fd);
      if (rc != 0) {
        return Status::Unavailable("[server] listen " + options_.listen +
                                   ": cannot bind: " + std::strerror(err));
      }
    }
    FramerLimits limits{static_cast<std::size_t>(options_.max_head_bytes),
                        static_cast<std::size_t>(options_.max_body_bytes)};
    ConnectionCaps caps = effective_connection_caps(options_);
    auto limiter = std::make_shared<ConnectionLimiter>(caps);
    if (!options_.tls_cert.empty()) return bind_tls(host, port, limits, limiter);
    try {
      Pistache::Address addr(host, Pistache::Port(static_cast<std::uint16_t>(port)));
      endpoint_ = std::make_unique<Http::Endpoint>(addr);
      auto opts = Http::Endpoint::options()
                      .threads(options_.threads)
                      .threadsName("dfd-http")
                      .flags(Pistache::Tcp::Options::NoDelay | Pistache::Tcp::Options::ReuseAddr)
                      .maxRequestSize(limits.max_head + limits.max_body)
                      .headerTimeout(std::chrono::milliseconds(options_.header_timeout_ms))
                      .bodyTimeout(std::chrono::milliseconds(options_.body_timeout_ms))
                      .keepaliveTimeout(std::chrono::milliseconds(options_.keepalive_timeout_ms));
      endpoint_->init(opts);
      log_limits(caps, limits);
      endpoint_->setHandler(std::make_shared<DispatchHandler>(state_, limits, limiter));
    } catch (const std::exception& e) {
      endpoint_.reset();
      return Status::Unavailable("[server] listen " + options_.listen + ": " + e.what());
    }
    return Status::Ok();
  });
}

void ControlPlane::log_limits(const ConnectionCaps& caps, const FramerLimits& limits) const {
  state_->log->info(
      "control plane limits: {} connections ({} per address), body {} bytes, head {} bytes",
      caps.total, caps.per_address, limits.max_body, limits.max_head);
}

Status ControlPlane::bind_tls(const std::string& host, int port, const FramerLimits& limits,
                              std::shared_ptr<ConnectionLimiter> limiter) {
  TlsRefusal refusal;
  SslCtxPtr ctx = make_server_tls_context(
      {options_.tls_cert, options_.tls_key, options_.tls_client_ca}, &refusal);
  if (!ctx) return Status::InvalidArgument("[server] " + refusal.key + ": " + refusal.message);
  TlsListenerOptions o;
  o.host = host;
  o.port = port;
  o.threads = options_.threads;
  o.threads_name = "dfd-http";
  o.timeouts = {std::chrono::milliseconds(options_.header_timeout_ms),
                std::chrono::milliseconds(options_.body_timeout_ms),
                std::chrono::milliseconds(options_.keepalive_timeout_ms)};
  // A handshake is the start of the first request: the same limit as a request head.
  o.handshake_timeout = std::chrono::milliseconds(options_.header_timeout_ms);
  auto handler = std::make_shared<DispatchHandler>(state_, limits, limiter);
  handler->setMaxRequestSize(limits.max_head + limits.max_body);
  tls_ = std::make_unique<TlsListener>(o, std::move(ctx), handler, std::move(limiter),
                                       refusal_counter(state_), state_->log);
  if (Status s = tls_->bind(); !s.ok()) {
    tls_.reset();
    return s;
  }
  log_limits(effective_connection_caps(options_), limits);
  state_->log->info("control plane: HTTPS (TLS 1.2+){}",
                    options_.tls_client_ca.empty() ? "" : ", client certificates required");
  return Status::Ok();
}

Status ControlPlane::serve() {
  if (tls_) {
    routes_.freeze();
    if (Status s = tls_->serve(); !s.ok()) return s;
    serving_ = true;
    return Status::Ok();
  }
  if (!endpoint_) return Status::FailedPrecondition("control plane not bound");
  routes_.freeze();
  return guard("control plane", [&]() -> Status {
    try {
      endpoint_->serveThreaded();
    } catch (const std::exception& e) {
      return Status::Unavailable("[server] listen " + options_.listen +
                                 ": cannot serve: " + e.what());
    }
    serving_ = true;
    return Status::Ok();
  });
}

int ControlPlane::port() const {
  if (tls_) return tls_->port();
  return endpoint_ ? static_cast<int>(static_cast<std::uint16_t>(endpoint_->getPort())) : 0;
}

int ControlPlane::drain(std::chrono::milliseconds grace) {
  state_->draining.store(true);
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->cv.wait_for(lock, grace, [&] { return state_->in_flight == 0; });
  return state_->in_flight;
}

void ControlPlane::shutdown() noexcept {
  if (tls_) {
    state_->draining.store(true);
    tls_->shutdown();
    tls_.reset();
    serving_ = false;
    return;
  }
  if (!endpoint_) return;
  try {
    state_->draining.store(true);
    if (serving_) endpoint_->shutdown();
  } catch (const std::exception& e) {
    state_->log->warn("control plane shutdown: {}", e.what());
  }
  serving_ = false;
  endpoint_.reset();
}

}  // namespace dfd::host
