// What every libcurl handle of the client is allowed to do, in one place (issue 11): only http
// and https, for the first request and for any redirect (a manifest naming gopher:// or file://
// must not make libcurl talk to another service or read a local file), no signals, and a cap on
// the response headers a server may send.
#pragma once

#include <curl/curl.h>

#include <cstddef>

namespace dfd::client {

// Response headers (all lines of one transfer together) above this fail the request.
constexpr std::size_t kMaxHeaderBytes = std::size_t{64} << 10;

// Sets CURLOPT_PROTOCOLS_STR / CURLOPT_REDIR_PROTOCOLS_STR to "http,https" (the bitmask options
// on a libcurl older than 7.85), CURLOPT_NOSIGNAL and a small CURLOPT_MAXREDIRS.
void apply_curl_policy(CURL* easy);

// Counts the header bytes of one transfer: add() returns false once they pass kMaxHeaderBytes
// (the header callback then returns 0 and libcurl fails the transfer).
class HeaderBudget {
 public:
  bool add(std::size_t n) {
    used_ += n;
    return used_ <= kMaxHeaderBytes;
  }
  bool exceeded() const { return used_ > kMaxHeaderBytes; }

 private:
  std::size_t used_ = 0;
};

}  // namespace dfd::client
