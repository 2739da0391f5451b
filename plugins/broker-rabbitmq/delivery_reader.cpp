#include "delivery_reader.hpp"

#include <sys/time.h>

namespace dfd::broker_rabbitmq {

namespace {
std::string text(const amqp_bytes_t& b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

Status lost(int rc) {
  return Status::Unavailable(std::string("connection lost: ") + amqp_error_string2(rc));
}

// The next frame of the delivery being read (header or body), waiting at most `timeout`.
Status next_content_frame(amqp_connection_state_t conn, amqp_channel_t channel,
                          std::chrono::milliseconds timeout, std::uint8_t want,
                          amqp_frame_t& frame) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  int rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
  if (rc == AMQP_STATUS_TIMEOUT) {
    return Status::Unavailable("a delivery's content did not follow its basic.deliver");
  }
  if (rc != AMQP_STATUS_OK) return lost(rc);
  if (frame.channel != channel || frame.frame_type != want) {
    return Status::Unavailable("protocol error: unexpected frame inside a delivery");
  }
  return Status::Ok();
}

Status read_content(amqp_connection_state_t conn, amqp_channel_t channel, std::size_t max_body,
                    std::chrono::milliseconds timeout, Incoming& out) {
  amqp_frame_t frame;
  DFD_RETURN_IF_ERROR(next_content_frame(conn, channel, timeout, AMQP_FRAME_HEADER, frame));
  out.body_size = frame.payload.properties.body_size;
  out.too_large = out.body_size > max_body;
  if (!out.too_large) out.body.reserve(static_cast<std::size_t>(out.body_size));
  std::uint64_t received = 0;
  while (received < out.body_size) {
    DFD_RETURN_IF_ERROR(next_content_frame(conn, channel, timeout, AMQP_FRAME_BODY, frame));
    const amqp_bytes_t& part = frame.payload.body_fragment;
    received += part.len;
    if (received > out.body_size) {
      return Status::Unavailable("protocol error: a delivery's body is longer than announced");
    }
    if (!out.too_large) out.body.append(static_cast<const char*>(part.bytes), part.len);
    // The frame's buffer belongs to the channel pool: give it back before reading the next.
    amqp_maybe_release_buffers_on_channel(conn, channel);
  }
  return Status::Ok();
}
}  // namespace

Status read_incoming(amqp_connection_state_t conn, amqp_channel_t channel, std::size_t max_body,
                     std::chrono::milliseconds frame_timeout, Incoming& out) {
  out = Incoming{};
  amqp_frame_t frame;
  timeval zero{0, 0};
  // Also sends a heartbeat when one is due and notices a silent server.
  int rc = amqp_simple_wait_frame_noblock(conn, &frame, &zero);
  if (rc == AMQP_STATUS_TIMEOUT) return Status::Ok();
  if (rc != AMQP_STATUS_OK) return lost(rc);
  if (frame.frame_type != AMQP_FRAME_METHOD) {
    return Status::Unavailable("protocol error: content frame outside a delivery");
  }
  const amqp_method_t& m = frame.payload.method;
  switch (m.id) {
    case AMQP_BASIC_DELIVER_METHOD: {
      auto* d = static_cast<amqp_basic_deliver_t*>(m.decoded);
      out.kind = Incoming::Kind::kDelivery;
      out.tag = d->delivery_tag;
      out.key = text(d->routing_key);
      return read_content(conn, frame.channel, max_body, frame_timeout, out);
    }
    case AMQP_BASIC_CANCEL_METHOD:
      out.kind = Incoming::Kind::kCancelled;
      return Status::Ok();
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* cl = static_cast<amqp_channel_close_t*>(m.decoded);
      out.kind = Incoming::Kind::kChannelClosed;
      out.why = std::to_string(cl->reply_code) + " " + text(cl->reply_text);
      amqp_channel_close_ok_t ok{};
      amqp_send_method(conn, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      return Status::Ok();
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* cl = static_cast<amqp_connection_close_t*>(m.decoded);
      out.kind = Incoming::Kind::kConnectionClosed;
      out.why = std::to_string(cl->reply_code) + " " + text(cl->reply_text);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      return Status::Ok();
    }
    default:
      out.kind = Incoming::Kind::kOther;
      return Status::Ok();
  }
}

}  // namespace dfd::broker_rabbitmq
