// How a data-plane connection's bytes cross its socket: in the clear (PlainTransport, here) or
// through a TLS session (TlsTransport, tls_transport.hpp). The event loop drives every
// connection through this interface only, so TLS lives in the transport and the loop alone.
//
// Every call is non-blocking and never waits: kWouldBlock means "the socket is not ready; call
// again after the next epoll edge" (the loop registers each socket once, edge-triggered for
// input and output, so a TLS session that wants to read while writing, or the reverse, is simply
// retried on whichever edge comes next — no epoll_ctl, no spinning).
//
// Thread-safety: a transport belongs to one connection on one loop thread; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dfd::host {

enum class IoOutcome {
  kOk,          // progress: `n` bytes (or the handshake is complete)
  kWouldBlock,  // nothing possible now; wait for the next epoll edge
  kEof,         // the peer closed its sending side (read only)
  kError,       // the connection is broken (reset, protocol error): close it
};

struct Io {
  IoOutcome outcome = IoOutcome::kOk;
  std::size_t n = 0;
  // After a successful read: the socket is known to be drained (wait for the next input edge).
  bool drained = false;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Drives the TLS handshake; kOk once established (at once for a plain socket).
  virtual Io handshake() noexcept = 0;
  // Reads up to `n` bytes (n > 0).
  virtual Io read(char* buf, std::size_t n) noexcept = 0;
  // Writes up to `n` bytes (n > 0) from `buf`. After kWouldBlock the caller retries with the same
  // (`buf`, `n`) — TLS requires it, and the loop's pieces and staging buffer stay put anyway.
  // `more`: more bytes of this response follow (a hint to coalesce segments).
  virtual Io write(const char* buf, std::size_t n, bool more) noexcept = 0;
  // True when send_file() sends without copying through user space (plain sockets; kTLS).
  virtual bool zero_copy() const noexcept = 0;
  // Sends up to `n` bytes of file `fd` from `offset` (only when zero_copy()). kOk with n == 0:
  // the file ended early.
  virtual Io send_file(int fd, std::uint64_t offset, std::size_t n) noexcept = 0;
  // Ends our sending side after the last response (TLS: close_notify first; best effort).
  virtual void shutdown_write() noexcept = 0;
};

// A plain TCP socket: recv/send(MSG_NOSIGNAL, MSG_MORE)/sendfile. Does not own `fd`.
class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  Io handshake() noexcept override { return {}; }
  Io read(char* buf, std::size_t n) noexcept override;
  Io write(const char* buf, std::size_t n, bool more) noexcept override;
  bool zero_copy() const noexcept override { return true; }
  Io send_file(int fd, std::uint64_t offset, std::size_t n) noexcept override;
  void shutdown_write() noexcept override;

 private:
  int fd_;
};

// Maps errno after a failed non-blocking socket call: EAGAIN → kWouldBlock, else kError.
Io io_from_errno(int err) noexcept;

}  // namespace dfd::host
