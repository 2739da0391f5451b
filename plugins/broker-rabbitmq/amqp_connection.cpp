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
  tls_.reset();
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
      r.reply.decoded) {
    // RabbitMQ waits for close-ok before it accepts channel.open again (504 otherwise).
    amqp_channel_close_ok_t ok{};
    amqp_send_method(conn_, kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    channel_open_ = false;
    switch (static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_code) {
      case AMQP_PRECONDITION_FAILED:
        code = Code::kFailedPrecondition;
        break;
      case AMQP_ACCESS_REFUSED:
        code = Code::kPermissionDenied;
        break;
      case AMQP_NOT_FOUND:
        code = Code::kNotFound;
        break;
      default:
        break;
    }
  }
  return Status(code, std::string(what) + ": " + describe_reply(r));
}

Status AmqpConnection::reopen_channel() {
  channel_open_ = false;
  amqp_maybe_release_buffers(conn_);
  amqp_channel_open(conn_, kChannel);
  DFD_RETURN_IF_ERROR(check_rpc("open channel again"));
  channel_open_ = true;
  return Status::Ok();
}

Status AmqpConnection::open(const AmqpTarget& t, const TlsFiles& tls, int heartbeat_s,
                            std::chrono::milliseconds timeout) {
  destroy();
  const std::string where = "RabbitMQ at " + t.display;
  conn_ = amqp_new_connection();
  if (!conn_) return Status::ResourceExhausted("amqp_new_connection failed");
  amqp_socket_t* sock = nullptr;
  if (t.tls) {
    auto made = TlsSocket::create(conn_, tls, t.host);
    if (!made.ok()) {
      destroy();
      return made.status().with_context(where);
    }
    tls_ = std::move(*made);
    sock = tls_->socket();
  } else {
    sock = amqp_tcp_socket_new(conn_);
    if (!sock) return Status::ResourceExhausted("amqp_tcp_socket_new failed");
  }
  timeval tv = to_timeval(timeout);
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);
  errno = 0;
  int rc = amqp_socket_open_noblock(sock, t.host.c_str(), t.port, &tv);
  if (rc != AMQP_STATUS_OK) {
    const int e = errno;
    std::string msg;
    // The broker failed to prove who it is: a configuration error, like a refused login.
    const Code code = tls_ && tls_->verify_failed() ? Code::kUnauthenticated : Code::kUnavailable;
    if (tls_ && (rc == AMQP_STATUS_SSL_ERROR || rc == AMQP_STATUS_SSL_CONNECTION_FAILED ||
                 rc == AMQP_STATUS_SSL_PEER_VERIFY_FAILED ||
                 rc == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED)) {
      msg = where + ": " + tls_->explain_open_failure(rc, t.host + ":" + std::to_string(t.port));
    } else {
      msg = "cannot connect to " + where + ": " + amqp_error_string2(rc);
      if (e != 0) msg += std::string(" (") + std::strerror(e) + ")";
    }
    destroy();
    return Status(code, msg);
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
    if (tls_ && r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      msg += tls_->explain_session_failure();
    } else if (!t.tls && r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      // A TLS listener reads the AMQP greeting as a broken ClientHello and hangs up (or answers
      // with an alert rabbitmq-c cannot parse).
      msg += " (no AMQP answer: if " + t.host + ":" + std::to_string(t.port) +
             " is a TLS listener, use amqps:// with ca_file)";
    }
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
