// Splits the bytes of one control-plane connection into requests before Pistache parses them,
// so that no request can make the server read, buffer or allocate more than the limits allow.
//
// The framer sees every byte the peer sends, in order. It keeps at most `max_head` bytes of the
// current request's head; once the head ends (the first empty line) it reads Content-Length and
// from then on only counts body bytes. A request is refused as soon as it is known to break a
// limit, before any byte over the limit is passed on:
//   - head longer than max_head                                  → 431 head_too_large
//   - Content-Length above max_body (1e12 included)              → 413 body_too_large
//   - Content-Length not a plain decimal, or two that differ     → 400 bad_request
//   - any Transfer-Encoding (chunked uploads are not accepted)   → 411 length_required
// After a refusal the connection's framing is lost: the caller answers and closes it.
//
// Use: call take() in a loop over each received buffer. It returns how many bytes belong to the
// current request (pass exactly those to the HTTP parser) and sets `request_done` when the
// request's last byte was among them; the next call starts the next (pipelined) request.
//
// Thread-safety: none; one framer per connection, used by the connection's reactor thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dfd::host {

struct FramerLimits {
  std::size_t max_head = 16 * 1024;
  std::size_t max_body = 64 * 1024;
};

struct FramerRefusal {
  int status = 0;    // 0 = none
  std::string code;  // JSON error code
  std::string message;
};

class RequestFramer {
 public:
  explicit RequestFramer(FramerLimits limits) : limits_(limits) {}

  // Consumes a prefix of data[0, len) that belongs to the current request and returns its length
  // (0 < result <= len unless refused). On a refusal returns 0 and fills *refusal; every later
  // call refuses again.
  std::size_t take(const char* data, std::size_t len, bool* request_done, FramerRefusal* refusal);

  // True while no byte of a new request has been seen (between requests).
  bool at_request_start() const { return !refused_ && !in_body_ && head_.empty(); }
  // True once the current request's head is complete (its body is being counted).
  bool in_body() const { return in_body_; }

 private:
  bool finish_head(FramerRefusal* refusal);
  std::size_t refuse(FramerRefusal* refusal, int status, const char* code, std::string message);

  FramerLimits limits_;
  std::string head_;  // bytes of the current head so far (at most max_head)
  bool in_body_ = false;
  std::uint64_t body_left_ = 0;
  bool refused_ = false;
  FramerRefusal refusal_;
};

}  // namespace dfd::host
