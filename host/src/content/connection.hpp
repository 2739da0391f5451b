// One data-plane connection's state, owned by the event loop it lives on (no locks).
//
// Memory per connection is bounded: the head buffer (max_head, 8 KiB by default; pipelined
// requests wait in it or in the kernel), the response in flight (a head of a few hundred bytes,
// at most max_ranges multipart part heads), a parked request's copies of its token, Range and
// If-Range (each within the head limit), the transport (a TLS session: its SSL object, whose
// record buffers OpenSSL releases whenever they are empty) and, only while a response goes
// through user space (TLS without kTLS, or a storage without a descriptor), one staging buffer of
// kStageSize bytes (event_loop.cpp) taken from a small per-loop pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "content/content_index.hpp"
#include "content/response_builder.hpp"
#include "content/transport.hpp"
#include "request_id.hpp"

namespace dfd::host {

using SteadyTime = std::chrono::steady_clock::time_point;
constexpr SteadyTime kNever = SteadyTime::max();

enum class ConnState { kReading, kWriting, kParked, kLingering };

// A request waiting for its token to become known (owns copies of what it needs).
struct ParkedRequest {
  bool head_only = false;
  std::string uid;
  std::string token;
  std::string range;
  std::string if_range;
  int range_count = 0;
};

struct Conn {
  int fd = -1;
  std::unique_ptr<Transport> io;  // plain socket or TLS session over fd
  bool handshaken = false;        // io->handshake() completed (at once for a plain socket)
  std::uint64_t serial = 0;
  std::string address;  // address_key() of the peer
  ConnState state = ConnState::kReading;
  std::unique_ptr<char[]> buf;
  std::size_t len = 0;
  bool readable = true;
  bool peer_eof = false;
  bool closed = false;
  bool keep_alive = true;
  bool queued = false;          // in the loop's ready list
  bool http10 = false;          // the current request is HTTP/1.0 (keep-alive must be announced)
  bool served_any = false;      // a request was answered (the next wait is a keep-alive idle)
  bool admitted = false;        // holds a unit of the connection quota
  bool refusing = false;        // answered 503 over a cap (holds a refusal slot)
  bool parked_counted = false;  // holds a unit of the parked-request quota
  // Response in flight.
  int status = 0;
  std::vector<ResponsePiece> pieces;
  std::size_t piece = 0;   // index of the piece being sent
  std::uint64_t sent = 0;  // bytes of that piece already sent
  std::shared_ptr<OpenFile> file;
  // Staging buffer (responses through user space): bytes [stage_pos, stage_len) are still to
  // be written; the pieces' cursor (piece, sent) counts what was copied into it.
  std::unique_ptr<char[]> stage;
  std::size_t stage_len = 0;
  std::size_t stage_pos = 0;
  std::uint64_t body_bytes = 0;
  // Parked request.
  ParkedRequest parked;
  // Idle list (connections waiting for a request, oldest first): evicted first under pressure.
  std::list<Conn*>::iterator idle_pos;
  bool in_idle_list = false;
  // Timers: `deadline` is when this connection's current wait ends; `heap_time` the time of
  // its live entry in the loop's heap (kNever = none).
  SteadyTime deadline = kNever;
  SteadyTime heap_time = kNever;
  SteadyTime head_start;  // accept time, or when the first byte of a later head arrived
  // Issue 14: the request being answered. Its id (X-Request-Id, echoed in the response head and
  // named in error log lines) and, only with an access log, what its entry needs (bounded by
  // access_log.hpp's limits; written when the response is finished or the connection closes).
  RequestId request_id;
  bool access_pending = false;
  SteadyTime request_start;
  std::string access_method;
  std::string access_target;
  std::shared_ptr<const IndexedFile> access_file;
  std::string remote_text;  // the peer's address as text, made at the first entry
};

}  // namespace dfd::host
