// Request ids (X-Request-Id) for both HTTP planes: a client's id is taken as given when it is
// 1..64 characters of [A-Za-z0-9._-]; otherwise (absent, empty, too long, any other character)
// the server makes a fresh one of 16 lower-case hex characters. The id is echoed in the
// response's X-Request-Id header and written in access-log entries and error log lines about the
// request (docs/operations.md).
//
// Thread-safety: valid_request_id() is pure; a RequestIdGenerator belongs to one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dfd::host {

constexpr std::size_t kMaxRequestIdLength = 64;
constexpr std::size_t kGeneratedRequestIdLength = 16;

// True when `id` may be taken from a request as it is.
bool valid_request_id(std::string_view id) noexcept;

// A request's id without allocating: at most kMaxRequestIdLength characters.
class RequestId {
 public:
  void assign(std::string_view id) noexcept;  // truncated to kMaxRequestIdLength
  std::string_view view() const noexcept { return {chars_.data(), len_}; }
  bool empty() const noexcept { return len_ == 0; }

 private:
  std::array<char, kMaxRequestIdLength> chars_{};
  std::size_t len_ = 0;
};

// Fresh ids: 64 random-looking bits as 16 hex characters (splitmix64 over a random seed; unique
// enough to find a request in the logs, not a secret).
class RequestIdGenerator {
 public:
  RequestIdGenerator();
  // `given` when valid_request_id(given), else a fresh id.
  void assign(RequestId& out, std::string_view given) noexcept;
  std::string next();

 private:
  std::uint64_t state_;
};

}  // namespace dfd::host
