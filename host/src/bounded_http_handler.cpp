#include "bounded_http_handler.hpp"

#include <pistache/peer.h>

#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>

#include "dfd/host_services.hpp"

namespace dfd::host {
namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;

namespace {
constexpr const char* kConnectionKey = "dfd.connection";
}  // namespace

struct BoundedHttpHandler::Connection {
  explicit Connection(FramerLimits limits) : framer(limits) {}
  RequestFramer framer;
  std::shared_ptr<void> slot;       // the ConnectionLimiter's count, released with the Peer
  std::atomic<bool> closed{false};  // no more input is read: refused, or the last response sent
  // Requests dispatched whose response is not written yet. Pistache queues a response by file
  // descriptor number: shutting the connection down (so Pistache closes the descriptor) while one
  // is queued could let it reach the next connection given the same number. So the shutdown waits
  // until nothing is queued (shutdown_when_written).
  std::atomic<int> pending{0};
  std::atomic<bool> shutdown_when_written{false};
};

BoundedHttpHandler::BoundedHttpHandler(FramerLimits limits,
                                       std::shared_ptr<ConnectionLimiter> limiter,
                                       RefusalHook on_refusal)
    : limits_(limits), limiter_(std::move(limiter)), on_refusal_(std::move(on_refusal)) {}

void BoundedHttpHandler::onConnection(const std::shared_ptr<Tcp::Peer>& peer) {
  // Pistache's transport reads the parser of every peer (for its timeouts): always create it.
  peer->putData(ParserData,
                std::make_shared<Http::RequestParser>(limits_.max_head + limits_.max_body));
  auto conn = std::make_shared<Connection>(limits_);
  peer->putData(kConnectionKey, conn);
  ConnectionLimiter::Refusal why = ConnectionLimiter::Refusal::kNone;
  conn->slot = peer->tryGetData(kAdmittedSlotKey);
  if (!conn->slot) conn->slot = limiter_->admit(peer->address().host(), &why);
  if (!conn->slot) {
    refuse(*conn, *peer, 503, "too_many_connections",
           why == ConnectionLimiter::Refusal::kPerAddress
               ? "too many connections from this address; retry later"
               : "too many connections; retry later");
  }
}

void BoundedHttpHandler::onInput(const char* buffer, size_t len,
                                 const std::shared_ptr<Tcp::Peer>& peer) {
  auto conn = std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionKey));
  if (!conn || conn->closed) return;  // refused: whatever is still buffered is dropped
  auto parser = getParser(peer);
  while (len > 0) {
    bool starting = conn->framer.at_request_start();
    bool was_in_body = conn->framer.in_body();
    bool done = false;
    FramerRefusal refusal;
    std::size_t n = conn->framer.take(buffer, len, &done, &refusal);
    if (refusal.status != 0) {
      refuse(*conn, *peer, refusal.status, refusal.code, refusal.message);
      return;
    }
    if (starting) {
      // A new request: Pistache's timeouts run from its parser's clock, restarted by reset().
      parser->reset();
      peer->setIdle(false);
    }
    if (!parser->feed(buffer, n)) {  // cannot happen: the framer keeps within this size
      refuse(*conn, *peer, 413, "body_too_large", "request is too large");
      return;
    }
    buffer += n;
    len -= n;
    if (done) {
      if (!dispatch(*conn, peer)) return;
    } else if (!was_in_body && conn->framer.in_body()) {
      // The head is complete: let the parser reach its body step (its body timeout applies).
      try {
        parser->parse();
      } catch (const std::exception&) {
        refuse(*conn, *peer, 400, "bad_request", "malformed request head");
        return;
      }
    }
  }
}

bool BoundedHttpHandler::dispatch(Connection& conn, const std::shared_ptr<Tcp::Peer>& peer) {
  auto parser = getParser(peer);
  auto& request = parser->request;
  try {
    if (parser->parse() != Http::Private::State::Done) {
      refuse(conn, *peer, 400, "bad_request", "malformed request");
      return false;
    }
  } catch (const std::exception&) {
    refuse(conn, *peer, 400, "bad_request", "malformed request");
    return false;
  }
  if (conn.pending.load() >= kMaxPendingResponses) {
    // Not read by its client: no answer (it would queue behind the others); further input is
    // dropped and the connection ends once the queued responses are written (or by the
    // keep-alive timeout if the client never reads them).
    conn.closed = true;
    shut_down_after_writes(conn, *peer);
    if (on_refusal_) on_refusal_("too_many_pipelined");
    return false;
  }
  conn.pending.fetch_add(1);
  try {
    Http::ResponseWriter response(request.version(), transport(), this, peer);
    request.copyAddress(peer->address());
    auto connection = request.headers().tryGet<Http::Header::Connection>();
    response.headers().add<Http::Header::Connection>(connection ? connection->control()
                                                                : Http::ConnectionControl::Close);
    onRequest(request, std::move(response));
  } catch (const std::exception&) {
    conn.pending.fetch_sub(1);  // no response was queued for it
    refuse(conn, *peer, 500, "internal", "internal error");
    return false;
  }
  parser->reset();
  return true;
}

void BoundedHttpHandler::response_written(const Tcp::Peer& peer, bool close) {
  auto conn = std::static_pointer_cast<Connection>(peer.tryGetData(kConnectionKey));
  if (!conn) return;
  if (close) {
    conn->closed = true;
    conn->shutdown_when_written = true;
  }
  if (conn->pending.fetch_sub(1) == 1 && conn->shutdown_when_written.load()) {
    ::shutdown(peer.fd(), SHUT_RDWR);
  }
}

void BoundedHttpHandler::shut_down_after_writes(Connection& conn, const Tcp::Peer& peer) {
  conn.shutdown_when_written.store(true);
  if (conn.pending.load() == 0) ::shutdown(peer.fd(), SHUT_RDWR);
}

void BoundedHttpHandler::refuse(Connection& conn, const Tcp::Peer& peer, int status,
                                const std::string& code, const std::string& message) {
  conn.closed = true;
  HttpResponse body;
  set_json_error(body, status, code, message);
  std::string wire =
      "HTTP/1.1 " + std::to_string(status) + " " +
      Http::codeString(static_cast<Http::Code>(status)) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.body.size()) +
      "\r\nConnection: close\r\n" + (status == 503 ? "Retry-After: 1\r\n" : "") + "\r\n" +
      body.body;
  // Best effort and never blocking: the socket buffer of a connection that has received no
  // response yet has room; otherwise the peer gets only the close. Not behind queued responses.
  if (conn.pending.load() == 0) {
    if (peer.ssl() != nullptr) {
      // The descriptor is non-blocking: a full socket buffer fails the write, nothing waits.
      (void)SSL_write(static_cast<SSL*>(peer.ssl()), wire.data(), static_cast<int>(wire.size()));
      ERR_clear_error();
    } else {
      (void)::send(peer.fd(), wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  // Pistache still owns (and will close) the descriptor; shutting it down ends the connection:
  // reads see EOF once the buffered bytes are dropped, and the kernel resets new data.
  shut_down_after_writes(conn, peer);
  if (on_refusal_) on_refusal_(code);
}

}  // namespace dfd::host
