// What RabbitMQ refused when it closed a publishing channel with 403 ACCESS_REFUSED: the user
// lacks write permission on the exchange ("access to exchange 'amq.default' in vhost '/' refused
// for user 'fs-a'") or a topic permission for the routing key ("write access to topic
// 'token.issued' in exchange 'dfd' in vhost '/' refused for user 'fs-a'").
// Pure functions: thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace dfd::broker_rabbitmq {

struct PublishRefusal {
  std::string reason;  // RabbitMQ's reply text, cut and without control characters
  std::string topic;   // the refused routing key; empty when the whole exchange was refused
};

PublishRefusal parse_publish_refusal(std::string_view reply_text);

// True when a publish with `routing_key` falls under `r` (and would be refused again).
bool is_refused(const PublishRefusal& r, std::string_view routing_key);

}  // namespace dfd::broker_rabbitmq
