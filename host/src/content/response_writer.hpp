// Sending a connection's response (its pieces: heads in memory, file ranges) through its
// transport, without blocking and without starving the loop's other connections.
//
// Two ways, chosen per response:
//   - zero-copy (a plain socket, or TLS whose record layer the kernel took over — kTLS): heads
//     are written from memory with MSG_MORE, file ranges with sendfile()/SSL_sendfile();
//   - staged (TLS encrypted in user space, or a storage without a descriptor): pieces are copied
//     (heads) or read with read_at() (file ranges) into one bounded staging buffer of kStageSize
//     bytes, which is then written; a head and the start of its body share one write (for TLS:
//     full 16 KiB records, no small record per head), and a multipart response's part heads are
//     packed between the ranges the same way.
// Either way at most kTurnBudget file bytes go out per call before kYield; the staged way also
// yields after a read_at() that ends kTurnReadTime or more after the turn began (a slow storage — a
// network origin, a busy disk — delays only its own responses, not the loop's other connections;
// one read_at() call still blocks the loop while it runs).
//
// Staging buffers come from a per-loop pool (at most kPoolSize kept), so a stream of responses
// neither allocates nor keeps a buffer on an idle keep-alive connection.
//
// Thread-safety: one writer per event loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "content/connection.hpp"
#include "dfd/host_services.hpp"

namespace dfd::host {

constexpr std::size_t kStageSize = 128 * 1024;           // staging buffer per response in flight
constexpr std::uint64_t kTurnBudget = 16 * 1024 * 1024;  // file bytes per connection per turn
constexpr std::chrono::milliseconds kTurnReadTime{5};    // then a reading turn yields

enum class WriteResult {
  kDone,     // the whole response was written
  kBlocked,  // the socket is full: wait for the next edge
  kYield,    // the turn's budget is spent: continue after the other connections
  kError,    // the client went away or the file cannot be read: close
};

class ResponseWriter {
 public:
  explicit ResponseWriter(Logger& log) : log_(log) {}
  // Writes as much of `c`'s response (c.pieces from c.piece/c.sent) as possible; file bytes
  // written are added to c.body_bytes.
  WriteResult write(Conn& c);
  // Gives `c`'s staging buffer back to the pool (end of a response or of the connection).
  void release_stage(Conn& c) noexcept;

 private:
  WriteResult write_direct(Conn& c);
  WriteResult write_staged(Conn& c);
  bool fill_stage(Conn& c, std::uint64_t& budget, std::chrono::steady_clock::time_point read_until);

  static constexpr std::size_t kPoolSize = 16;
  Logger& log_;
  std::vector<std::unique_ptr<char[]>> pool_;
};

}  // namespace dfd::host
