// Reads what RabbitMQ sends to a consuming channel, one frame at a time, with bounded memory.
//
// rabbitmq-c's amqp_consume_message allocates a message's whole body from the size the broker
// announces before reading it (up to RabbitMQ's max_message_size, 128 MiB by default, per
// delivery). This reader keeps at most `max_body` bytes of a body: a bigger delivery is read to
// its end and discarded (`too_large`), so the consumer can reject it without holding it. Frames
// are at most the negotiated frame_max (131072 bytes); each body frame's buffer is released
// before the next is read.
//
// Besides deliveries it reports what ends or changes a consumer: basic.cancel (the queue was
// deleted: RabbitMQ sends it because the connection announced `consumer_cancel_notify`),
// channel.close and connection.close (both answered with their close-ok here).
//
// Thread-safety: like the connection it reads, one thread only.
#pragma once

#include <amqp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "dfd/status.hpp"

namespace dfd::broker_rabbitmq {

struct Incoming {
  enum class Kind {
    kNothing,           // no complete frame waiting (a due heartbeat was sent)
    kDelivery,          // tag, key, body (empty when too_large), body_size
    kCancelled,         // basic.cancel from the broker: the consumer is gone
    kChannelClosed,     // `why` holds the server's reason
    kConnectionClosed,  // `why` holds the server's reason
    kOther,             // another method (e.g. a late basic.qos-ok): nothing to do
  };
  Kind kind = Kind::kNothing;
  std::uint64_t tag = 0;
  std::string key;
  std::string body;
  std::uint64_t body_size = 0;  // as announced by the content header
  bool too_large = false;       // body_size > max_body: the body was read and dropped
  std::string why;
};

// Reads the next method frame waiting on `conn` (zero wait) and, for basic.deliver, the
// delivery's header and body frames (each waited for at most `frame_timeout`: they follow the
// method at once). Errors (socket, protocol, a frame timeout mid-message) are kUnavailable and
// end the connection.
Status read_incoming(amqp_connection_state_t conn, amqp_channel_t channel, std::size_t max_body,
                     std::chrono::milliseconds frame_timeout, Incoming& out);

}  // namespace dfd::broker_rabbitmq
