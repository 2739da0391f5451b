// The control-plane HTTP server (Pistache; HTTPS through TlsListener when [server] tls_cert is
// set, plain HTTP through Pistache's Http::Endpoint otherwise): dispatches every request through
// the RouteTable (built-in /healthz and /metrics plus plugin routes), counts requests by route and
// status, and drains in-flight requests on shutdown.
//
// Thread-safety: bind()/serve()/drain()/shutdown() run on the main thread. Request handling runs
// on Pistache's reactor threads; the shared state it touches is atomic or under a mutex.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "config.hpp"
#include "connection_limiter.hpp"
#include "metrics.hpp"
#include "request_framer.hpp"
#include "route_table.hpp"

namespace Pistache::Http {
class Endpoint;
}

namespace dfd::host {

class TlsListener;

// The connection caps the control plane applies: [server] max_connections (at most half of
// RLIMIT_NOFILE) and max_connections_per_address (at most half of that total).
ConnectionCaps effective_connection_caps(const ServerOptions& options);

class ControlPlane {
 public:
  ControlPlane(const ServerOptions& options, RouteTable& routes, MetricsRegistry& metrics,
               std::shared_ptr<spdlog::logger> log);
  ~ControlPlane();  // shutdown()

  // Checks that the listen address can be bound (so "address in use" is reported before plugins
  // start) and prepares the endpoint; the real bind happens in serve().
  Status bind();
  // Freezes the route table, binds and starts the worker threads.
  Status serve();
  // The bound port (after bind()).
  int port() const;
  // Answers new requests with 503 and waits until in-flight requests have been answered or
  // `grace` passed. Returns how many requests were still in flight.
  int drain(std::chrono::milliseconds grace);
  // Stops the workers and closes the listener. Idempotent.
  void shutdown() noexcept;

  struct State;

  // The URL scheme clients use: "https" with [server] tls_cert, else "http".
  const char* scheme() const { return options_.tls_cert.empty() ? "http" : "https"; }

 private:
  Status bind_tls(const std::string& host, int port, const FramerLimits& limits,
                  std::shared_ptr<ConnectionLimiter> limiter);
  void log_limits(const ConnectionCaps& caps, const FramerLimits& limits) const;

  ServerOptions options_;
  RouteTable& routes_;
  std::shared_ptr<State> state_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;  // plain HTTP
  std::unique_ptr<TlsListener> tls_;                    // HTTPS ([server] tls_cert)
  bool serving_ = false;
};

}  // namespace dfd::host
