// One TLS session over a non-blocking socket (server side), driven by the event loop through the
// Transport interface (transport.hpp).
//
// SSL_ERROR_WANT_READ and SSL_ERROR_WANT_WRITE both map to kWouldBlock: the loop's socket is
// registered once for input and output edges, and the call is retried on the next edge of
// either kind, so a session never spins. After kWouldBlock a write is retried with the same
// buffer and length (OpenSSL's rule). The thread's OpenSSL error queue is cleared before each
// call so that an old error never classifies a new result.
//
// Body bytes: when the kernel took over the record layer after the handshake (kTLS,
// ktls_send()), send_file() is SSL_sendfile() — zero-copy from the page cache. Otherwise
// zero_copy() is false and the loop encrypts in user space from its bounded staging buffer.
//
// Thread-safety: one connection, one loop thread.
#pragma once

#include "content/transport.hpp"

struct ssl_st;

namespace dfd::host {

class TlsTransport final : public Transport {
 public:
  // Takes ownership of `ssl` (already bound to the socket `fd`, which it does not own).
  TlsTransport(ssl_st* ssl, int fd) : ssl_(ssl), fd_(fd) {}
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  Io handshake() noexcept override;
  Io read(char* buf, std::size_t n) noexcept override;
  Io write(const char* buf, std::size_t n, bool more) noexcept override;
  bool zero_copy() const noexcept override { return ktls_send_; }
  Io send_file(int fd, std::uint64_t offset, std::size_t n) noexcept override;
  void shutdown_write() noexcept override;

  bool established() const noexcept { return established_; }
  // The kernel encrypts what this session sends (kTLS); known once established().
  bool ktls_send() const noexcept { return ktls_send_; }
  bool session_reused() const noexcept;

 private:
  Io failed(int ret) noexcept;

  ssl_st* ssl_;
  int fd_;
  bool established_ = false;
  bool ktls_send_ = false;
  bool broken_ = false;  // a fatal error happened: no close_notify
};

}  // namespace dfd::host
