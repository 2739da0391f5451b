// The download-token check of the data plane.
//
// Order matters (issue 11, defect 7): a request's token is checked for the uid it names BEFORE
// that uid is looked up in the index, so that without a valid token a file this server holds and
// a file it does not hold get the same answer (401 without a token, 403 with any other token,
// and the same wait when the token is not known yet). Only a token valid for exactly that uid
// may learn that the file is absent (404).
//
// The Authorization value is parsed by dfd/wire/bearer.hpp (the one bearer parser, shared with
// HttpRequest::bearer()): no Bearer credentials → 401; credentials that are not one RFC 6750
// b64token of at most 4 KiB → refused here as invalid (403) without asking the plugin or
// parking.
//
// TokenGate is one per event loop (not thread-safe): it remembers valid verdicts for up to one
// second per (uid, token) — a download runs many range requests with one token — and forgets
// them all on any token event, so a revocation applies at once and an expiry at most one second
// late.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dfd/auth.hpp"

namespace dfd::host {

class TokenGate {
 public:
  explicit TokenGate(Auth& auth) : auth_(auth) {}
  // The verdict for `token` on `uid` (kInvalid for a token that is not a wire::is_b64token).
  TokenVerdict check(std::string_view token, const std::string& uid);
  // A token event was applied: forget every remembered verdict.
  void forget() noexcept { verdicts_.clear(); }

 private:
  Auth& auth_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> verdicts_;
  std::string key_;  // "uid\ntoken", reused
};

}  // namespace dfd::host
