// storage-http: the requests made to the origin (libcurl), each bounded in time and size.
//
//   get()       — a whole small document (the index): status 200, body at most `max_bytes`;
//   get_range() — exactly [offset, offset + len) of a file: status 206, a Content-Range that names
//                 that very range and the file's size, and a body of exactly `len` bytes.
// Anything else is an error whose message names the URL (which carries no secret: presigned
// query strings are cut off in messages) and what was wrong. Redirects are not followed; only
// http and https are spoken.
//
// Thread-safety: every call uses its own easy handle (and connection), so calls from many
// threads at once are fine and nothing stays open between calls (no descriptor outlives a call).
#pragma once

#include <cstdint>
#include <string>

#include "dfd/status.hpp"

namespace dfd::storage_http {

struct OriginOptions {
  std::string ca_file;      // trust store for an https origin; empty = the system's
  long timeout_ms = 10000;  // whole request, connect included
};

class OriginClient {
 public:
  explicit OriginClient(OriginOptions options) : options_(std::move(options)) {}

  // kUnavailable: the origin cannot be reached (connect, timeout, TLS); kIoError: it answered
  // with an unexpected status or shape; kResourceExhausted: the body is bigger than max_bytes.
  Result<std::string> get(const std::string& url, std::size_t max_bytes) const noexcept;
  Result<std::string> get_range(const std::string& url, std::uint64_t offset, std::uint64_t len,
                                std::uint64_t file_size) const noexcept;

  // "https://o.example/files/a%20b.bin" for base "https://o.example/files/" and "a b.bin": each
  // byte of `name` outside [A-Za-z0-9-._~/] percent-encoded.
  static std::string join(const std::string& base, const std::string& name);
  // `url` without its query string and user:password@ (for messages: a presigned URL's signature
  // and an origin's credentials stay out of logs).
  static std::string redact(const std::string& url);

 private:
  OriginOptions options_;
};

}  // namespace dfd::storage_http
