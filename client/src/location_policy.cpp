#include "location_policy.hpp"

#include <algorithm>

#include "util.hpp"

namespace dfd::client {
namespace {

bool is_plain_http(const std::string& url) {
  if (url.size() < 7) return false;
  std::string scheme = url.substr(0, 7);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return scheme == "http://";
}

}  // namespace

void apply_location_policy(Manifest& m, const LocationPolicy& policy,
                           const std::function<void(const std::string&)>& warn) {
  if (!policy.manifest_over_https || policy.allow_insecure) return;
  std::size_t before = m.locations.size();
  auto insecure = [&](const Location& l) {
    if (!is_plain_http(l.url)) return false;
    if (warn) {
      warn("skipping location " + l.url + " (server " + l.server_id +
           "): plain http would expose the download token; --allow-insecure-locations uses it");
    }
    return true;
  };
  m.locations.erase(std::remove_if(m.locations.begin(), m.locations.end(), insecure),
                    m.locations.end());
  if (before > 0 && m.locations.empty()) {
    throw CliError(exit_code::kTls,
                   "file " + m.name +
                       ": every location is plain http and the manifest came over https; "
                       "refusing to send the download token in clear text (pass "
                       "--allow-insecure-locations to allow it)");
  }
}

}  // namespace dfd::client
