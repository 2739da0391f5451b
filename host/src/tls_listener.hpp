// The control plane's HTTPS listener: accepts connections and completes their TLS handshakes
// itself, without blocking, then hands each established connection to Pistache's reactor.
//
// Why not Http::Endpoint::useSSL: Pistache 0.0.5 runs a blocking SSL_accept() on its only accept
// thread, with no time limit. One client that connects and sends nothing (or half a ClientHello)
// stops every later connection from being accepted, for as long as it stays (measured: docs/host.md
// "TLS"). Here:
//   - every accepted connection first takes a ConnectionLimiter slot (the same caps as the
//     handler's, held from accept to close), so a handshake flood is bounded in total and per peer
//     address before any TLS work is done; over a cap the connection is closed at once;
//   - handshakes are non-blocking, driven by one epoll thread; a handshake not done within
//     `handshake_timeout` is dropped, as is one that fails (bad version, untrusted or missing
//     client certificate with tls_client_ca, ...);
//   - an established connection becomes a Pistache TLS peer (Peer::CreateSSL) on one of the
//     reactor threads (ControlTransport: Pistache's read/write path with SSL_read/SSL_write, plus
//     the header/body/keep-alive timeouts); BoundedHttpHandler then sees the decrypted bytes.
// Refusals are reported through the hook ("too_many_connections", "tls_handshake_timeout",
// "tls_handshake_failed").
//
// Thread-safety: bind()/serve()/shutdown()/port() on one thread (the host's main thread). The
// handshake thread owns the connections in handshake; the reactor threads own established ones.
#pragma once

#include <pistache/http.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "connection_limiter.hpp"
#include "control_transport.hpp"
#include "dfd/status.hpp"
#include "tls_files.hpp"

namespace dfd::host {

struct TlsListenerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 1;  // reactor threads
  std::string threads_name = "dfd-https";
  ControlTimeouts timeouts;
  std::chrono::milliseconds handshake_timeout{10000};
};

class TlsListener {
 public:
  using RefusalHook = std::function<void(const std::string& reason)>;

  TlsListener(TlsListenerOptions options, SslCtxPtr ctx,
              std::shared_ptr<Pistache::Http::Handler> handler,
              std::shared_ptr<ConnectionLimiter> limiter, RefusalHook on_refusal,
              std::shared_ptr<spdlog::logger> log);
  ~TlsListener();  // shutdown()
  TlsListener(const TlsListener&) = delete;
  TlsListener& operator=(const TlsListener&) = delete;

  // Binds and listens now (the port is known afterwards).
  Status bind();
  // Starts the reactor threads and the handshake thread.
  Status serve();
  int port() const;
  // Stops accepting, drops connections in handshake, stops the reactor (closing its
  // connections). Idempotent.
  void shutdown() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dfd::host
