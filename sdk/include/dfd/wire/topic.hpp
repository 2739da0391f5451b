// dfd wire library: AMQP topic matching, shared by the broker plugins (broker-local routes with
// it, broker-rabbitmq checks binding keys with it) and unit-tested on its own.
//
// A routing key is a list of words separated by '.'; a binding key may use '*' for exactly one
// word and '#' for zero or more words ("token.*" matches "token.issued"; "#" matches everything;
// "file.#" matches "file" and "file.a.b"). This is RabbitMQ's topic exchange rule.
// Pure functions: thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dfd::wire {

// True when `routing_key` matches the topic pattern `binding_key`.
bool topic_matches(std::string_view binding_key, std::string_view routing_key);

// True when any of `binding_keys` matches `routing_key`.
bool any_topic_matches(const std::vector<std::string>& binding_keys, std::string_view routing_key);

// Empty string when `binding_key` is usable (1..255 bytes, no empty word); else why not.
std::string check_binding_key(std::string_view binding_key);

}  // namespace dfd::wire
