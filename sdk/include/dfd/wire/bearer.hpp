// dfd wire library: the one parser of `Authorization: Bearer <token>` (RFC 6750 §2.1), used by
// the data plane and by HttpRequest::bearer() (the info API and every route a plugin serves).
// Header-only: a plugin that includes dfd/host_services.hpp needs no library for it.
//
// The rule (strict; the RFC's grammar, nothing more):
//   credentials = "Bearer" 1*SP b64token       ; the scheme is case-insensitive (RFC 9110 §11.1)
//   b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// at most kMaxBearerTokenBytes bytes of token. Whitespace around the field value (OWS: SP, HTAB)
// is not part of it and is ignored; a TAB between scheme and token, whitespace inside the token,
// an empty token or a token with other bytes is not a bearer token.
//
// Two questions, two answers:
//   parse_bearer(v).form  kNone      no Authorization value, another scheme, or "Bearer" alone
//                                    (a server answers 401: credentials are required)
//                         kMalformed "Bearer" and something that is not one b64token (bad bytes,
//                                    inner whitespace, over-long) — a server refuses it as an
//                                    invalid token without asking anyone
//                         kToken     .token is the token
//   bearer_token(v)       the token, or "" unless kToken
//
// Pure constexpr functions of their bytes; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace dfd::wire {

// Longest token accepted (auth-hmac's longest download token is ~1.5 KiB).
constexpr std::size_t kMaxBearerTokenBytes = 4096;

// RFC 6750 b64token, 1..kMaxBearerTokenBytes bytes.
constexpr bool is_b64token(std::string_view t) noexcept {
  if (t.empty() || t.size() > kMaxBearerTokenBytes) return false;
  std::size_t i = 0;
  for (; i < t.size(); ++i) {
    char c = t[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < t.size(); ++i) {
    if (t[i] != '=') return false;
  }
  return true;
}

struct BearerCredentials {
  enum class Form { kNone, kMalformed, kToken };
  Form form = Form::kNone;
  std::string_view token;  // kToken: the token; kMalformed: what followed the scheme; else ""
};

// Parses an Authorization field value (see the rule above).
constexpr BearerCredentials parse_bearer(std::string_view v) noexcept {
  using Form = BearerCredentials::Form;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() < kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return {};
  }
  v.remove_prefix(kScheme.size());
  if (v.empty()) return {};         // "Bearer" without credentials
  if (v.front() != ' ') return {};  // "Bearerx", "Bearer\tx": not this scheme
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.empty()) return {};
  if (!is_b64token(v)) return {Form::kMalformed, v};
  return {Form::kToken, v};
}

// The bearer token of an Authorization field value, or "".
constexpr std::string_view bearer_token(std::string_view authorization) noexcept {
  BearerCredentials b = parse_bearer(authorization);
  return b.form == BearerCredentials::Form::kToken ? b.token : std::string_view();
}

}  // namespace dfd::wire
