// broker-rabbitmq: the RabbitMQ nodes a broker instance may connect to, and the order it tries
// them in.
//
// Config: `url = "amqps://..."` (one node) or `urls = ["amqps://node1...", "amqps://node2...",
// ...]` (the nodes of one RabbitMQ cluster). An entry may hold several URLs separated by commas,
// so that one `"${DFD_AMQP_URLS}"` entry can list a whole cluster from the environment. Giving
// both keys, neither, or no URL at all is a config error naming file:line:key. Every URL uses the
// same scheme (all amqp:// or all amqps://: one set of TLS files serves them all) and no URL
// appears twice.
//
// Rotation: each connection (publisher, consumer) keeps its own NodeRotation. It starts at the
// first URL; a failed connect or a lost connection moves it to the next URL (wrapping around), so
// a dead node costs one attempt, not a whole back-off. Only a full round of failures (every node
// tried once without success) makes the caller's back-off grow.
//
// Thread-safety: load_broker_urls is a pure function of the config. A NodeRotation belongs to one
// thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "amqp_url.hpp"
#include "dfd/host_services.hpp"
#include "dfd/status.hpp"

namespace dfd::broker_rabbitmq {

// Parses `url` or `urls` (see above). Errors are config errors (kInvalidArgument, file:line:key)
// without any password.
Result<std::vector<AmqpTarget>> load_broker_urls(const Config& cfg);

class NodeRotation {
 public:
  explicit NodeRotation(std::size_t nodes) : nodes_(nodes == 0 ? 1 : nodes) {}

  // The node to connect to now (0-based).
  std::size_t current() const { return current_; }
  // The number of nodes.
  std::size_t size() const { return nodes_; }

  // A connect to current() failed, or its connection was lost: moves to the next node. Returns
  // true when every node has now failed once since the last success (a full round: back off).
  bool failed();
  // A connection to current() is up: the next failure starts a new round.
  void connected() { failures_in_round_ = 0; }

 private:
  std::size_t nodes_;
  std::size_t current_ = 0;
  std::size_t failures_in_round_ = 0;
};

}  // namespace dfd::broker_rabbitmq
