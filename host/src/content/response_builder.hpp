// Building data-plane responses: status line and headers written from memory, bodies described
// as pieces (bytes in memory, or a byte range of the file to be sent with sendfile()).
//
// ResponseBuilder knows HTTP (RFC 9110 ranges, 206/416/multipart, JSON errors, how the head ends
// for keep-alive) and nothing about sockets, tokens or timers.
//
// Thread-safety: one builder per event loop (it caches the Date header and numbers multipart
// boundaries); the free functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "content/open_file_cache.hpp"

namespace dfd::host {

// One piece of a response body or head.
struct ResponsePiece {
  std::string bytes;         // sent as is when !from_file
  std::uint64_t offset = 0;  // file range when from_file
  std::uint64_t length = 0;
  bool from_file = false;
};

// How the head ends: "Connection: close", "Connection: keep-alive" (HTTP/1.0) or nothing.
struct ConnectionHeader {
  bool keep_alive = true;
  bool http10 = false;
};

struct BuiltResponse {
  int status = 0;
  std::vector<ResponsePiece> pieces;
};

// What a request asked of the range machinery (views into the request or a parked copy).
struct RangeRequest {
  std::string_view range;
  int range_count = 0;  // more than one Range field → ignored (200)
  std::string_view if_range;
};

class ResponseBuilder {
 public:
  ResponseBuilder();
  // A JSON error {"error":{"code","message"}}; `extra_headers` are whole lines ("Name: v\r\n").
  // `head_only` (HEAD) → the same head without the body.
  BuiltResponse error(int status, std::string_view code, std::string_view message, bool head_only,
                      ConnectionHeader conn, std::string_view extra_headers = {});
  // 200, 206 (single or multipart/byteranges) or 416 for `file` and the request's ranges.
  BuiltResponse file(const OpenFile& file, const RangeRequest& ranges, std::size_t max_ranges,
                     bool head_only, ConnectionHeader conn);

 private:
  std::string begin_head(int status);
  const std::string& date_header();
  std::string next_boundary();

  std::int64_t date_sec_ = 0;
  std::string date_;
  std::uint64_t boundary_seed_ = 0;
  std::uint64_t boundary_counter_ = 0;
};

std::string_view reason_phrase(int status) noexcept;

// `Content-Disposition: attachment; filename="..."` value for a path's basename: quotes and
// backslashes escaped, control characters replaced, non-ASCII as `filename*=UTF-8''...`.
std::string content_disposition_value(std::string_view path);
// RFC 9530 `Repr-Digest` value ("sha-256=:BASE64:") for a hex digest, or "" when the algorithm
// has no registered name here or the hex is malformed.
std::string repr_digest_value(std::string_view alg, std::string_view hex);

}  // namespace dfd::host
