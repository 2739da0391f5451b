// `dfd-host keygen --out DIR --name NAME`: a new Ed25519 key pair for signed events
// (docs/security.md "Event signing"). Writes DIR/NAME.key (mode 0600, created exclusively: an
// existing file is never overwritten) and DIR/NAME.pub, creating DIR (0700) when missing.
// NAME is the sender: a file server's server id, or the info server's name ("info").
#pragma once

#include <string>

#include "dfd/status.hpp"

namespace dfd::host {

struct KeygenResult {
  std::string key_file, pub_file, key_id;
};

Result<KeygenResult> keygen(const std::string& dir, const std::string& name);

}  // namespace dfd::host
