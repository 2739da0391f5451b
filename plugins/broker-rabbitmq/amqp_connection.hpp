// One rabbitmq-c connection with channel 1 open: RAII, error text with context, bounded waits.
// rabbitmq-c connections are not thread-safe: an AmqpConnection is used by one thread only.
#pragma once

#include <amqp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "amqp_tls.hpp"
#include "amqp_url.hpp"
#include "dfd/status.hpp"

namespace dfd::broker_rabbitmq {

// Human text for an RPC reply ("server closed the connection: 403 ACCESS_REFUSED - ...").
std::string describe_reply(const amqp_rpc_reply_t& r);

class AmqpConnection {
 public:
  static constexpr amqp_channel_t kChannel = 1;
  // The largest frame either side may send (a message body arrives in frames of at most this).
  static constexpr int kFrameMax = 131072;

  AmqpConnection() = default;
  ~AmqpConnection();  // closes the socket without a handshake if still open
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  // TCP connect (with t.tls: TLS handshake verified with `tls`, amqp_tls.hpp), AMQP handshake
  // with `heartbeat_s` and kFrameMax, announcing the capability consumer_cancel_notify (RabbitMQ
  // then sends basic.cancel when a consumed queue is deleted), channel 1 open. Every step is
  // bounded by `timeout`. Errors: kUnauthenticated (bad user/password), kPermissionDenied (vhost
  // refused), kUnavailable (anything else: refused, reset, timeout, a failed TLS handshake, whose
  // message says why). Messages use t.display, never the password.
  Status open(const AmqpTarget& t, const TlsFiles& tls, int heartbeat_s,
              std::chrono::milliseconds timeout);

  // After RabbitMQ closed channel 1 (a refused publish, declare or bind; the close-ok is sent
  // already): opens it again on the same connection. Errors as check_rpc.
  Status reopen_channel();

  // Closes channel and connection politely (bounded by `timeout`), then frees everything.
  void close_gracefully(std::chrono::milliseconds timeout);

  amqp_connection_state_t get() const { return conn_; }
  // The socket, or -1.
  int fd() const;
  // Status for the last synchronous RPC on this connection ("declare exchange 'dfd': ...").
  // When the server closed the channel: kFailedPrecondition for 406 (e.g. an exchange of another
  // type), kPermissionDenied for 403 (the user lacks a permission), kNotFound for 404; then the
  // channel is closed and reopen_channel() may open it again. kUnavailable otherwise.
  Status check_rpc(std::string_view what);

  // Called with the socket right after the TCP connect and with -1 just before it is closed, so
  // another thread may shutdown(2) it to unblock a stuck call (the fd stays valid in between).
  void set_socket_observer(std::function<void(int)> observer) { observer_ = std::move(observer); }

 private:
  void destroy();
  amqp_connection_state_t conn_ = nullptr;
  std::unique_ptr<TlsSocket> tls_;  // outlives conn_, which owns the SSL socket
  bool channel_open_ = false;
  bool observed_ = false;
  std::function<void(int)> observer_;
};

}  // namespace dfd::broker_rabbitmq
