// The download-token check of the data plane.
//
// Order matters (issue 11, defect 7): a request's token is checked for the uid it names BEFORE
// that uid is looked up in the index, so that without a valid token a file this server holds and
// a file it does not hold get the same answer (401 without a token, 403 with any other token,
// and the same wait when the token is not known yet). Only a token valid for exactly that uid
// may learn that the file is absent (404).
//
// bearer_token() and plausible_token() are pure functions of their bytes. TokenGate is one per
// event loop (not thread-safe): it remembers valid verdicts for up to one second per
// (uid, token) — a download runs many range requests with one token — and forgets them all on
// any token event, so a revocation applies at once and an expiry at most one second late.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dfd/auth.hpp"

namespace dfd::host {

// The token of an `Authorization: Bearer <token>` value; "" for another scheme, a missing or
// empty token, or a token with whitespace inside.
std::string_view bearer_token(std::string_view authorization) noexcept;

// Longest token the data plane hands to the auth plugin (auth-hmac's longest is ~1.5 KiB).
constexpr std::size_t kMaxTokenBytes = 4096;

// RFC 6750 b64token syntax ( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", at most
// kMaxTokenBytes. Anything else is refused as invalid without asking the plugin or parking.
bool plausible_token(std::string_view token) noexcept;

class TokenGate {
 public:
  explicit TokenGate(Auth& auth) : auth_(auth) {}
  // The verdict for `token` on `uid` (kInvalid for an implausible token).
  TokenVerdict check(std::string_view token, const std::string& uid);
  // A token event was applied: forget every remembered verdict.
  void forget() noexcept { verdicts_.clear(); }

 private:
  Auth& auth_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> verdicts_;
  std::string key_;  // "uid\ntoken", reused
};

}  // namespace dfd::host
