// dfd SDK — broker plugins: the event transport between info and file servers.
//
// Topology (every implementation): one topic exchange "dfd"; routing keys `token.issued` and
// `token.revoked` (published by the info server), and `file.available.<id>`, `file.removed.<id>`,
// `server.heartbeat.<id>` (published by file server <id>: its server id is the last segment, so
// RabbitMQ topic permissions can allow each file server's user only its own keys). The info
// server binds `file.#` and `server.#` and dispatches on the first two segments (event_kind()).
// Bodies are JSON objects carrying "v": 1 (dfd/events.hpp). Between hosts the host signs every
// body and verifies it before a handler sees it (dfd/event_signing.hpp, docs/security.md);
// plugins publish and receive plain bodies. A durable implementation gives each server its own
// durable queue named after the server id, so events published while it was down are delivered
// when it is back. Delivery is at-least-once: handlers must be idempotent.
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

// A file server's routing key: `kind` (kFileAvailable, kFileRemoved, kServerHeartbeat) + "." +
// its server id.
inline std::string server_routing_key(std::string_view kind, std::string_view server_id) {
  std::string k(kind);
  k.push_back('.');
  k.append(server_id);
  return k;
}
// The first two segments of a routing key ("file.available.fs-a" → "file.available").
inline std::string_view event_kind(std::string_view routing_key) {
  std::size_t dot = routing_key.find('.');
  if (dot == std::string_view::npos) return routing_key;
  return routing_key.substr(0, routing_key.find('.', dot + 1));
}
// The segment after the first two ("file.available.fs-a" → "fs-a"; "" when there is none).
inline std::string_view event_publisher(std::string_view routing_key) {
  std::string_view kind = event_kind(routing_key);
  return kind.size() < routing_key.size() ? routing_key.substr(kind.size() + 1)
                                          : std::string_view();
}
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
