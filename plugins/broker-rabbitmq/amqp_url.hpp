// AMQP URLs for broker-rabbitmq: parsing (with rabbitmq-c's amqp_parse_url) and redaction.
// Pure functions: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dfd/status.hpp"

namespace dfd::broker_rabbitmq {

struct AmqpTarget {
  std::string host;
  int port = 5672;
  std::string vhost = "/";
  std::string user = "guest";
  std::string password = "guest";
  bool password_in_url = false;  // the URL carried "user:pass@"
  bool tls = false;              // amqps:// (default port 5671)
  // "amqp://guest:***@127.0.0.1:5672/" — the only form of the URL that may be logged.
  std::string display;
};

// `url` with the password part of "user:pass@" replaced by "***". Works on malformed input too.
std::string redact_url(std::string_view url);

// Parses "amqp://user:pass@host:port/vhost" or "amqps://..." (TLS; amqp_tls.hpp). An empty
// vhost ("amqp://h:5672/") means "/". Errors are kInvalidArgument and never contain the password.
Result<AmqpTarget> parse_amqp_url(const std::string& url);

}  // namespace dfd::broker_rabbitmq
