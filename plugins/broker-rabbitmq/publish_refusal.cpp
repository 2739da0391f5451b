#include "publish_refusal.hpp"

namespace dfd::broker_rabbitmq {

namespace {
constexpr std::size_t kMaxReason = 300;
}

PublishRefusal parse_publish_refusal(std::string_view reply_text) {
  PublishRefusal r;
  r.reason.assign(reply_text.substr(0, kMaxReason));
  for (char& c : r.reason) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  constexpr std::string_view kTopic = "access to topic '";
  const std::size_t at = reply_text.find(kTopic);
  if (at != std::string_view::npos) {
    const std::size_t start = at + kTopic.size();
    // A routing key may hold "'": the key ends at the last "' in exchange '".
    const std::size_t end = reply_text.rfind("' in exchange '");
    if (end != std::string_view::npos && end >= start) {
      r.topic.assign(reply_text.substr(start, end - start));
    }
  }
  return r;
}

bool is_refused(const PublishRefusal& r, std::string_view routing_key) {
  return r.topic.empty() || r.topic == routing_key;
}

}  // namespace dfd::broker_rabbitmq
