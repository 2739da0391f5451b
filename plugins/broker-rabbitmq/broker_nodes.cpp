#include "broker_nodes.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace dfd::broker_rabbitmq {

namespace {
constexpr const char* kUrlForm = "amqp:// or amqps://user:pass@host:port/vhost";
}

Result<std::vector<AmqpTarget>> load_broker_urls(const Config& cfg) {
  const bool one = cfg.has("url"), many = cfg.has("urls");
  if (one && many) {
    return cfg.error("urls",
                     "give either url (one node) or urls (the nodes of a cluster), not both");
  }
  std::vector<std::string> texts;
  std::string key = "url";
  if (many) {
    key = "urls";
    auto list = cfg.get_string_list("urls");
    if (!list.ok()) return list.status();
    // An entry may name several nodes separated by commas: one ${VARIABLE} can list a cluster.
    for (const auto& entry : *list) {
      for (std::size_t at = 0; at <= entry.size();) {
        std::size_t comma = std::min(entry.find(',', at), entry.size());
        std::string one = entry.substr(at, comma - at);
        while (!one.empty() && one.front() == ' ') one.erase(0, 1);
        while (!one.empty() && one.back() == ' ') one.pop_back();
        if (!one.empty()) texts.push_back(std::move(one));
        at = comma + 1;
      }
    }
    if (texts.empty()) {
      return cfg.error("urls", std::string("empty (list one or more ") + kUrlForm + ")");
    }
  } else {
    auto url = cfg.get_string("url");
    if (!url.ok()) {
      if (url.status().code() == Code::kNotFound) {
        return cfg.error("url", std::string("required (") + kUrlForm +
                                    "), or urls = [...] for the nodes of a cluster");
      }
      return url.status();
    }
    texts.push_back(std::move(*url));
  }
  std::vector<AmqpTarget> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto target = parse_amqp_url(texts[i]);
    const std::string which = many ? "entry " + std::to_string(i + 1) + ": " : std::string();
    if (!target.ok()) return cfg.error(key, which + target.status().message());
    if (!out.empty() && target->tls != out.front().tls) {
      return cfg.error(key, which + target->display + " mixes amqp:// and amqps:// (" +
                                out.front().display + "); use one scheme for every node");
    }
    const std::string where = target->host + ":" + std::to_string(target->port) + target->vhost;
    if (!seen.insert(where).second)
      return cfg.error(key, which + target->display + " is listed twice");
    out.push_back(std::move(*target));
  }
  return out;
}

bool NodeRotation::failed() {
  current_ = (current_ + 1) % nodes_;
  if (++failures_in_round_ < nodes_) return false;
  failures_in_round_ = 0;
  return true;
}

}  // namespace dfd::broker_rabbitmq
