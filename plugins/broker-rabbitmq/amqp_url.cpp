#include "amqp_url.hpp"

#include <amqp.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace dfd::broker_rabbitmq {

namespace {
constexpr std::size_t kMaxShown = 256;  // longer URLs are cut in messages

// Where the user information ends: the LAST '@' after the scheme. A password may hold '/', '?',
// '#', ':' or '@' (unencoded, which rabbitmq-c then refuses); none of them can hide it.
std::size_t userinfo_end(std::string_view url, std::size_t start) {
  std::size_t at = url.rfind('@');
  return at == std::string_view::npos || at < start ? std::string_view::npos : at;
}

std::size_t authority_start(std::string_view url) {
  std::size_t scheme = url.find("://");
  return scheme == std::string_view::npos ? 0 : scheme + 3;
}
}  // namespace

std::string redact_url(std::string_view url) {
  std::string out(url);
  const std::size_t start = authority_start(out);
  const std::size_t at = userinfo_end(out, start);
  if (at != std::string::npos) {
    const std::size_t colon = out.find(':', start);
    if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  if (out.size() > kMaxShown) out = out.substr(0, kMaxShown) + "...";
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // no log injection
  }
  return out;
}

Result<AmqpTarget> parse_amqp_url(const std::string& url) {
  const std::string shown = redact_url(url);
  if (url.rfind("amqp://", 0) != 0 && url.rfind("amqps://", 0) != 0) {
    return Status::InvalidArgument("url '" + shown +
                                   "': expected amqp:// or amqps://user:pass@host:port/vhost");
  }
  std::vector<char> buf(url.begin(), url.end());
  buf.push_back('\0');
  amqp_connection_info info;
  amqp_default_connection_info(&info);
  int rc = amqp_parse_url(buf.data(), &info);
  const std::size_t start = authority_start(url);
  const std::size_t at = userinfo_end(url, start);
  const std::string userinfo = at == std::string::npos ? "" : url.substr(start, at - start);
  if (rc != AMQP_STATUS_OK) {
    std::string hint = " (expected amqp://user:pass@host:port/vhost)";
    if (userinfo.find_first_of("/?#@") != std::string::npos ||
        std::count(userinfo.begin(), userinfo.end(), ':') > 1) {
      hint =
          ": the user or password holds '/', '?', '#', '@' or ':'; percent-encode them (%2F "
          "%3F %23 %40 %3A) or put the password in password_file";
    }
    return Status::InvalidArgument("url '" + shown + "': " + amqp_error_string2(rc) + hint);
  }
  AmqpTarget t;
  t.host = info.host ? info.host : "";
  if (t.host.empty()) return Status::InvalidArgument("url '" + shown + "': no host");
  t.port = info.port;
  t.tls = info.ssl != 0;
  t.vhost = (info.vhost && *info.vhost) ? info.vhost : "/";
  t.user = info.user ? info.user : "guest";
  t.password = info.password ? info.password : "guest";
  // rabbitmq-c points into `buf` for what the URL gave and to a constant "guest" otherwise.
  const std::less<const char*> before;
  t.password_in_url = info.password && !before(info.password, buf.data()) &&
                      before(info.password, buf.data() + buf.size());
  t.display = shown;
  return t;
}

}  // namespace dfd::broker_rabbitmq
