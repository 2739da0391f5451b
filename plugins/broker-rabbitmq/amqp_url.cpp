#include "amqp_url.hpp"

#include <amqp.h>

#include <vector>

namespace dfd::broker_rabbitmq {

std::string redact_url(std::string_view url) {
  std::string out(url);
  std::size_t scheme = out.find("://");
  std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  std::size_t end = out.find_first_of("/?#", start);
  if (end == std::string::npos) end = out.size();
  std::size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
  if (at == std::string::npos || at < start) return out;
  std::size_t colon = out.find(':', start);
  if (colon == std::string::npos || colon > at) return out;
  out.replace(colon + 1, at - colon - 1, "***");
  return out;
}

Result<AmqpTarget> parse_amqp_url(const std::string& url) {
  const std::string shown = redact_url(url);
  if (url.rfind("amqps://", 0) == 0) {
    return Status::InvalidArgument("url '" + shown + "': amqps (TLS) is not supported");
  }
  if (url.rfind("amqp://", 0) != 0) {
    return Status::InvalidArgument("url '" + shown +
                                   "': expected amqp://user:pass@host:port/vhost");
  }
  std::vector<char> buf(url.begin(), url.end());
  buf.push_back('\0');
  amqp_connection_info info;
  amqp_default_connection_info(&info);
  int rc = amqp_parse_url(buf.data(), &info);
  if (rc != AMQP_STATUS_OK) {
    return Status::InvalidArgument("url '" + shown + "': " + amqp_error_string2(rc) +
                                   " (expected amqp://user:pass@host:port/vhost)");
  }
  AmqpTarget t;
  t.host = info.host ? info.host : "";
  if (t.host.empty()) return Status::InvalidArgument("url '" + shown + "': no host");
  t.port = info.port;
  t.vhost = (info.vhost && *info.vhost) ? info.vhost : "/";
  t.user = info.user ? info.user : "guest";
  t.password = info.password ? info.password : "guest";
  std::size_t scheme_end = url.find("://") + 3;
  std::size_t auth_end = url.find_first_of("/?#", scheme_end);
  std::string authority = url.substr(
      scheme_end, auth_end == std::string::npos ? std::string::npos : auth_end - scheme_end);
  std::size_t at = authority.rfind('@');
  t.password_in_url = at != std::string::npos && authority.find(':') < at;
  t.display = shown;
  return t;
}

}  // namespace dfd::broker_rabbitmq
