// One rabbitmq-c connection with channel 1 open: RAII, error text with context, bounded waits.
// rabbitmq-c connections are not thread-safe: an AmqpConnection is used by one thread only.
#pragma once

#include <amqp.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

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

  // TCP connect, AMQP handshake with `heartbeat_s` and kFrameMax, announcing the capability
  // consumer_cancel_notify (RabbitMQ then sends basic.cancel when a consumed queue is deleted),
  // channel 1 open. Every step is bounded by
  // `timeout`. Errors: kUnauthenticated (bad user/password), kPermissionDenied (vhost refused),
  // kUnavailable (anything else: refused, reset, timeout). Messages use t.display, never the
  // password.
  Status open(const AmqpTarget& t, int heartbeat_s, std::chrono::milliseconds timeout);

  // Closes channel and connection politely (bounded by `timeout`), then frees everything.
  void close_gracefully(std::chrono::milliseconds timeout);

  amqp_connection_state_t get() const { return conn_; }
  // The socket, or -1.
  int fd() const;
  // Status for the last synchronous RPC on this connection ("declare exchange 'dfd': ...").
  // kFailedPrecondition when the server refused with 406 (e.g. an exchange of another type),
  // kUnavailable otherwise.
  Status check_rpc(std::string_view what);

  // Called with the socket right after the TCP connect and with -1 just before it is closed, so
  // another thread may shutdown(2) it to unblock a stuck call (the fd stays valid in between).
  void set_socket_observer(std::function<void(int)> observer) { observer_ = std::move(observer); }

 private:
  void destroy();
  amqp_connection_state_t conn_ = nullptr;
  bool channel_open_ = false;
  bool observed_ = false;
  std::function<void(int)> observer_;
};

}  // namespace dfd::broker_rabbitmq
