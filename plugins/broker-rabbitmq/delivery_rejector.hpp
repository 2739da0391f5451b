// What broker-rabbitmq does with a delivery that can never be handled: it is rejected once and
// never comes back.
//
//   - basic.reject without requeue: RabbitMQ drops it, or dead-letters it when the operator gave
//     the queue a dead-letter policy (`rabbitmqctl set_policy ... {"dead-letter-exchange":...}`);
//   - dfd_broker_events_rejected_total{reason} counts it: "invalid" (a handler returned
//     kInvalidArgument: the body is malformed and will stay so), "too_large" (body over
//     max_body_bytes, never read into memory), "unmatched" (no subscription took it in time);
//   - a warning names the routing key, the reason and the handler's message, never the body (it
//     may carry a token hash or terminal escapes); at most kBurst lines per kWindow, the next
//     allowed line tells how many were held back.
//
// Thread-safety: the consumer thread only.
#pragma once

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "dfd/host_services.hpp"
#include "dfd/log_throttle.hpp"
#include "dfd/status.hpp"

namespace dfd::broker_rabbitmq {

// `text` cut to `max` bytes with control characters replaced by '?' (routing keys and handler
// messages come from whoever could publish: no terminal escapes or fake lines in the log).
std::string loggable(std::string_view text, std::size_t max);

class DeliveryRejector {
 public:
  enum class Reason { kInvalid, kTooLarge, kUnmatched };
  static constexpr std::chrono::milliseconds kWindow{60000};
  static constexpr int kBurst = 5;

  DeliveryRejector(Logger& log, Metrics& metrics, std::string queue);

  // Rejects delivery `tag` (requeue = false) on `channel`, counts and logs it. kUnavailable when
  // the reject could not be sent (the connection is gone; the delivery comes back after a
  // reconnect and is judged again).
  Status reject(amqp_connection_state_t conn, amqp_channel_t channel, std::uint64_t tag,
                std::string_view key, Reason reason, std::string_view detail);

 private:
  Logger& log_;
  Counter& invalid_;
  Counter& too_large_;
  Counter& unmatched_;
  std::string queue_;
  LogThrottle throttle_{kWindow, kBurst};
};

}  // namespace dfd::broker_rabbitmq
