#include "delivery_rejector.hpp"

namespace dfd::broker_rabbitmq {

namespace {
constexpr const char* kName = "dfd_broker_events_rejected_total";
constexpr const char* kHelp =
    "Deliveries rejected without requeue (malformed, too large, or no subscription took them)";

const char* reason_name(DeliveryRejector::Reason r) {
  switch (r) {
    case DeliveryRejector::Reason::kInvalid:
      return "invalid";
    case DeliveryRejector::Reason::kTooLarge:
      return "too_large";
    case DeliveryRejector::Reason::kUnmatched:
      return "unmatched";
  }
  return "unknown";
}
}  // namespace

std::string loggable(std::string_view text, std::size_t max) {
  std::string out(text.substr(0, max));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > max) out += "...";
  return out;
}

DeliveryRejector::DeliveryRejector(Logger& log, Metrics& metrics, std::string queue)
    : log_(log),
      invalid_(metrics.counter(kName, kHelp, {{"reason", "invalid"}})),
      too_large_(metrics.counter(kName, kHelp, {{"reason", "too_large"}})),
      unmatched_(metrics.counter(kName, kHelp, {{"reason", "unmatched"}})),
      queue_(std::move(queue)) {}

Status DeliveryRejector::reject(amqp_connection_state_t conn, amqp_channel_t channel,
                                std::uint64_t tag, std::string_view key, Reason reason,
                                std::string_view detail) {
  if (amqp_basic_reject(conn, channel, tag, /*requeue=*/0) != AMQP_STATUS_OK) {
    return Status::Unavailable("basic.reject failed");
  }
  Counter& c = reason == Reason::kInvalid    ? invalid_
               : reason == Reason::kTooLarge ? too_large_
                                             : unmatched_;
  c.add();
  std::uint64_t held_back = 0;
  if (throttle_.allow(LogThrottle::Clock::now(), held_back)) {
    std::string line = "rejected a '" + loggable(key, 255) + "' delivery on queue '" + queue_ +
                       "' (" + reason_name(reason) + "): " + loggable(detail, 300) +
                       "; it will not be redelivered";
    if (held_back > 0) {
      line += " (" + std::to_string(held_back) + " more rejections were not logged)";
    }
    log_.warn(line);
  }
  return Status::Ok();
}

}  // namespace dfd::broker_rabbitmq
