#include "amqp_connection.hpp"

#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

namespace dfd::broker_rabbitmq {

namespace {
timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

std::string bytes_to_string(const amqp_bytes_t& b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}
}  // namespace

std::string describe_reply(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply from the server";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD && r.reply.decoded) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "server closed the connection: " + std::to_string(m->reply_code) + " " +
               bytes_to_string(m->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD && r.reply.decoded) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "server closed the channel: " + std::to_string(m->reply_code) + " " +
               bytes_to_string(m->reply_text);
      }
      return "server error (method id " + std::to_string(r.reply.id) + ")";
  }
  return "unknown reply";
}

AmqpConnection::~AmqpConnection() {
  destroy();
}

void AmqpConnection::destroy() {
  if (observed_) {
    observed_ = false;
    if (observer_) observer_(-1);
  }
  if (conn_) {
    amqp_destroy_connection(conn_);  // closes the socket
    conn_ = nullptr;
  }
  channel_open_ = false;
}

int AmqpConnection::fd() const {
  return conn_ ? amqp_get_sockfd(conn_) : -1;
}

Status AmqpConnection::check_rpc(std::string_view what) {
  amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return Status::Ok();
  Code code = Code::kUnavailable;
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
      r.reply.decoded &&
      static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_code == AMQP_PRECONDITION_FAILED) {
    code = Code::kFailedPrecondition;
  }
  return Status(code, std::string(what) + ": " + describe_reply(r));
}

Status AmqpConnection::open(const AmqpTarget& t, int heartbeat_s,
                            std::chrono::milliseconds timeout) {
  destroy();
  const std::string where = "RabbitMQ at " + t.display;
  conn_ = amqp_new_connection();
  if (!conn_) return Status::ResourceExhausted("amqp_new_connection failed");
  amqp_socket_t* sock = amqp_tcp_socket_new(conn_);
  if (!sock) return Status::ResourceExhausted("amqp_tcp_socket_new failed");
  timeval tv = to_timeval(timeout);
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);
  errno = 0;
  int rc = amqp_socket_open_noblock(sock, t.host.c_str(), t.port, &tv);
  if (rc != AMQP_STATUS_OK) {
    std::string msg = "cannot connect to " + where + ": " + amqp_error_string2(rc);
    int e = errno;
    if (e != 0) msg += std::string(" (") + std::strerror(e) + ")";
    destroy();
    return Status::Unavailable(msg);
  }
  if (observer_) {
    observed_ = true;
    observer_(amqp_get_sockfd(conn_));
  }
  // capabilities.consumer_cancel_notify: without it RabbitMQ drops a consumer whose queue is
  // deleted silently, and the consumer would wait forever on a queue that no longer exists.
  // rabbitmq-c merges this table with its own default capabilities.
  amqp_table_entry_t capability{};
  capability.key = amqp_cstring_bytes("consumer_cancel_notify");
  capability.value.kind = AMQP_FIELD_KIND_BOOLEAN;
  capability.value.value.boolean = 1;
  amqp_table_entry_t property{};
  property.key = amqp_cstring_bytes("capabilities");
  property.value.kind = AMQP_FIELD_KIND_TABLE;
  property.value.value.table = amqp_table_t{1, &capability};
  const amqp_table_t properties{1, &property};
  amqp_rpc_reply_t r =
      amqp_login_with_properties(conn_, t.vhost.c_str(), 0, kFrameMax, heartbeat_s, &properties,
                                 AMQP_SASL_METHOD_PLAIN, t.user.c_str(), t.password.c_str());
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    std::string msg = "login to " + where + " as '" + t.user + "' failed: " + describe_reply(r);
    Code code = Code::kUnavailable;
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        r.reply.id == AMQP_CONNECTION_CLOSE_METHOD && r.reply.decoded) {
      auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
      if (m->reply_code == AMQP_ACCESS_REFUSED) code = Code::kUnauthenticated;
      if (m->reply_code == AMQP_NOT_ALLOWED) code = Code::kPermissionDenied;
    }
    destroy();
    return Status(code, msg);
  }
  amqp_channel_open(conn_, kChannel);
  Status st = check_rpc("open channel on " + where);
  if (!st.ok()) {
    destroy();
    return st;
  }
  channel_open_ = true;
  return Status::Ok();
}

void AmqpConnection::close_gracefully(std::chrono::milliseconds timeout) {
  if (!conn_) return;
  timeval tv = to_timeval(timeout);
  amqp_set_rpc_timeout(conn_, &tv);
  if (channel_open_) {
    amqp_rpc_reply_t r = amqp_channel_close(conn_, kChannel, AMQP_REPLY_SUCCESS);
    channel_open_ = false;
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
      amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    }
  }
  destroy();
}

}  // namespace dfd::broker_rabbitmq
