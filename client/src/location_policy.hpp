// Which file-server locations of a manifest may receive its download token (issue 12).
//
// A manifest fetched over https carries a download token that must not then cross the network
// in clear text: its plain-http locations are dropped (each with a warning on stderr) unless the
// user passed --allow-insecure-locations. When no location is left the download is refused
// (CliError exit_code::kTls) before any request is sent. A manifest fetched over plain http, or
// read from a file (--manifest), is used as it is.
#pragma once

#include <functional>
#include <string>

#include "manifest.hpp"

namespace dfd::client {

struct LocationPolicy {
  bool manifest_over_https = false;  // the info server's URL is https://
  bool allow_insecure = false;       // --allow-insecure-locations
};

// Applies the policy to `m` in place; `warn` gets one line per dropped location.
void apply_location_policy(Manifest& m, const LocationPolicy& policy,
                           const std::function<void(const std::string&)>& warn);

}  // namespace dfd::client
