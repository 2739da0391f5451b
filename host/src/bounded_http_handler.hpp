// A Pistache Http::Handler that reads requests within fixed limits, for listeners open to anyone.
//
// Pistache 0.0.5's own input path reads a request body of any size (answering 413 for every
// maxRequestSize bytes and carrying on), reserves whatever Content-Length claims (1e12 →
// std::bad_alloc → a plain-text 500), and takes every connection it can accept. This handler
// replaces that path (it overrides Tcp::Handler::onConnection/onInput):
//   - each connection first takes a slot from the ConnectionLimiter (or brings the one its
//     listener took: kAdmittedSlotKey); over a cap it is answered 503 too_many_connections and
//     closed;
//   - a TLS connection (Peer::ssl(), see tls_listener.hpp) gets the same treatment: Pistache hands
//     this handler the decrypted bytes, and a refusal is written with SSL_write;
//   - the bytes go through a RequestFramer (request_framer.hpp); a refused request is answered
//     with a JSON error ({"error":{"code","message"}}, Connection: close) and the connection is
//     shut down at once: the rest of its input is dropped unread (new data is reset by the kernel);
//   - Pistache's parser sees exactly one request at a time (so pipelined requests are kept), and
//     its clock restarts at the first byte of each request: Pistache's header/body timeouts
//     (Endpoint::Options::headerTimeout/bodyTimeout, checked every 500 ms by its transport) then
//     run from the start of each request, and its keep-alive timeout from the last response.
// Memory per connection is bounded by max_head + max_body (parser buffer) + max_head (framer),
// and by at most kMaxPendingResponses answered requests whose responses are not written yet: a
// client that pipelines more without reading is cut off (Pistache would queue every response).
//
// Subclasses implement onRequest() and must use HTTP_PROTOTYPE (copies share the limiter).
// Thread-safety: Pistache calls every member of one copy on that copy's reactor thread.
#pragma once

#include <pistache/http.h>

#include <functional>
#include <memory>
#include <string>

#include "connection_limiter.hpp"
#include "request_framer.hpp"

namespace dfd::host {

class BoundedHttpHandler : public Pistache::Http::Handler {
 public:
  // Called with a short reason ("too_many_connections", "body_too_large", ...) for every
  // connection closed by a refusal; for metrics. Runs on a reactor thread.
  using RefusalHook = std::function<void(const std::string& reason)>;

  BoundedHttpHandler(FramerLimits limits, std::shared_ptr<ConnectionLimiter> limiter,
                     RefusalHook on_refusal);

  static constexpr int kMaxPendingResponses = 16;
  // A listener that admitted the connection itself (TlsListener, before the TLS handshake) stores
  // the ConnectionLimiter slot in the Peer under this key; the handler then takes that slot
  // instead of admitting the connection a second time.
  static constexpr const char* kAdmittedSlotKey = "dfd.admitted";

 protected:
  // Subclasses call this once the response to a request of `peer` has been written (or failed),
  // from the write's continuation; `close` ends the connection (after any responses still
  // queued), e.g. for "Connection: close".
  static void response_written(const Pistache::Tcp::Peer& peer, bool close);

 private:
  struct Connection;

  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;

  // Parses and dispatches the request the framer just completed; false if it was refused.
  bool dispatch(Connection& conn, const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  // Shuts the connection down now, or once its queued responses are written.
  static void shut_down_after_writes(Connection& conn, const Pistache::Tcp::Peer& peer);
  // Answers `status` with a JSON error (best effort, never blocks) and shuts the connection down.
  void refuse(Connection& conn, const Pistache::Tcp::Peer& peer, int status,
              const std::string& code, const std::string& message);

  FramerLimits limits_;
  std::shared_ptr<ConnectionLimiter> limiter_;
  RefusalHook on_refusal_;
};

}  // namespace dfd::host
