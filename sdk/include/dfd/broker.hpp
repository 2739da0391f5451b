// dfd SDK — broker plugins: the event transport between info and file servers.
//
// Topology (every implementation): one topic exchange "dfd"; routing keys `token.issued`,
// `token.revoked`, `file.available`, `file.removed`, `server.heartbeat`; bodies are JSON objects
// carrying "v": 1. A durable implementation gives each server its own durable queue named after
// the server id, so events published while it was down are delivered when it is back.
// Delivery is at-least-once: handlers must be idempotent.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/plugin.hpp"

namespace dfd {

namespace events {
inline constexpr std::string_view kTokenIssued = "token.issued";
inline constexpr std::string_view kTokenRevoked = "token.revoked";
inline constexpr std::string_view kFileAvailable = "file.available";
inline constexpr std::string_view kFileRemoved = "file.removed";
inline constexpr std::string_view kServerHeartbeat = "server.heartbeat";
}  // namespace events

// Called for each delivered event on a broker-owned thread (one at a time per subscription).
// Return Ok once the event is stored/applied: the broker then acknowledges it.
// kInvalidArgument means "malformed, and it will stay so": the broker drops the event at once
// (RabbitMQ: basic.reject without requeue, so a dead-letter policy may keep it), never delivers
// it again, counts it in dfd_broker_events_rejected_total{reason="invalid"} and logs the
// routing key and the status message (rate-limited), never the body: such a message must not
// quote the body either. Any other error → the event is redelivered later (after a backoff).
// The body handed to a handler is at most `max_body_bytes` (broker-rabbitmq; default
// events::limits::kMaxEventBytes): bigger deliveries are rejected unread ({reason="too_large"}).
using EventHandler = std::function<Status(std::string_view routing_key, std::string_view body)>;

class Broker : public Plugin {
 public:
  static constexpr PluginKind kKind = PluginKind::kBroker;

  // Publishes and waits until the broker confirmed the event as stored, at most `timeout`.
  // kUnavailable when not connected, kDeadlineExceeded when no confirm came in time.
  // Thread-safe; concurrent publishes are pipelined.
  virtual Status publish(std::string_view routing_key, std::string_view body,
                         std::chrono::milliseconds timeout) noexcept = 0;

  // Delivers events whose routing key matches one of `binding_keys` (topic patterns such as
  // "token.*") to `handler`. Call from Plugin::start() of a plugin that requires kBroker (or from
  // the host), after the broker has started. Bindings survive reconnects.
  virtual Status subscribe(std::vector<std::string> binding_keys,
                           EventHandler handler) noexcept = 0;

  // True while connected and able to publish.
  virtual bool connected() const noexcept = 0;
};

}  // namespace dfd
