// info-core: small pieces every route of the info API shares — error answers, the user
// object, request field parsing. Inline and stateless; thread-safe.
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "dfd/auth.hpp"
#include "dfd/host_services.hpp"
#include "dfd/status.hpp"

namespace dfd::info {

// The longest e-mail or password a route reads (bytes).
inline constexpr std::size_t kMaxField = 1024;
// A user token's lifetime: 0 asks the auth plugin for its own (auth-sqlite's user_token_ttl_s).
inline constexpr std::chrono::seconds kUserTokenTtl{0};

inline std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline int http_status(Code c) {
  switch (c) {
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kResourceExhausted:
      return 429;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

// A 4xx carries the Status's message; a 5xx only a generic one (a store's message names its
// database, host or file: the caller logs it, the client is not told), and a 503 a Retry-After.
inline void set_error(HttpResponse& r, const Status& st) {
  const int status = http_status(st.code());
  if (status < 500) {
    set_json_error(r, status, code_name(st.code()), st.message());
  } else if (status == 503) {
    set_json_error(r, status, code_name(st.code()),
                   "a store of the information server is unavailable; retry shortly");
    r.headers.emplace_back("Retry-After", "1");
  } else {
    set_json_error(r, status, code_name(st.code()), "internal error");
  }
}

inline void unauthorized(HttpResponse& r, std::string_view message) {
  set_json_error(r, 401, "unauthenticated", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
}

// 429 with Retry-After (seconds).
inline void rate_limited(HttpResponse& r, std::string_view what, std::int64_t wait_s) {
  set_json_error(r, 429, "rate_limited",
                 std::string(what) + "; retry in " + std::to_string(wait_s) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(wait_s));
}

inline nlohmann::json user_json(const User& u) {
  return nlohmann::json{{"id", u.id}, {"email", u.email}, {"name", u.name}, {"role", u.role}};
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Decimal digits only (no sign, no spaces), at most `max`.
inline bool parse_uint(const std::string& s, std::uint64_t max, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

// The positive integer route parameter `name` ("/v1/files/:id"), or nullopt.
inline std::optional<std::int64_t> id_param(const HttpRequest& q, const char* name) {
  std::uint64_t id = 0;
  auto p = q.params.find(name);
  if (p == q.params.end() || !parse_uint(p->second, static_cast<std::uint64_t>(INT64_MAX), id) ||
      id == 0) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(id);
}

// The paging query parameters of a listing (GET /v1/files, GET /v1/users): `limit` 1..1000
// (default 100) and `offset` >= 0 (default 0). False after answering 400.
inline bool page_params(const HttpRequest& q, HttpResponse& r, std::uint64_t& limit,
                        std::uint64_t& offset) {
  limit = 100;
  offset = 0;
  auto it = q.query.find("limit");
  if (it != q.query.end() && (!parse_uint(it->second, 1000, limit) || limit == 0)) {
    set_json_error(r, 400, "invalid_argument", "'limit' must be an integer from 1 to 1000");
    return false;
  }
  it = q.query.find("offset");
  if (it != q.query.end() && !parse_uint(it->second, 1000000000000ULL, offset)) {
    set_json_error(r, 400, "invalid_argument", "'offset' must be a non-negative integer");
    return false;
  }
  return true;
}

// A string field of a JSON object: nullopt when absent or not a string.
inline std::optional<std::string> string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A new password (POST /v1/users, POST /v1/users/{id}/password): a string of 8 to 1024 bytes.
// False after answering 400.
inline bool new_password_ok(const std::optional<std::string>& password, HttpResponse& r) {
  if (password && password->size() >= 8 && password->size() <= 1024) return true;
  set_json_error(r, 400, "invalid_argument", "'password' must be a string of 8 to 1024 characters");
  return false;
}

inline bool plausible_email(const std::string& e) {
  if (e.size() < 3 || e.size() > 254) return false;
  auto at = e.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == e.size() || e.find('@', at + 1) != e.npos) {
    return false;
  }
  for (char c : e) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace dfd::info
