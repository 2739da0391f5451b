#include "content/tls_transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace dfd::host {

TlsTransport::~TlsTransport() {
  SSL_free(ssl_);
}

Io TlsTransport::failed(int ret) noexcept {
  int err = SSL_get_error(ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return {IoOutcome::kWouldBlock, 0, true};
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      return {IoOutcome::kEof, 0, true};
    default:  // SSL_ERROR_SYSCALL (reset), SSL_ERROR_SSL (protocol error, plain HTTP, ...)
      broken_ = true;
      ERR_clear_error();
      return {IoOutcome::kError, 0, false};
  }
}

Io TlsTransport::handshake() noexcept {
  if (established_) return {};
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r != 1) return failed(r);
  established_ = true;
  ktls_send_ = BIO_get_ktls_send(SSL_get_wbio(ssl_)) != 0;
  return {};
}

Io TlsTransport::read(char* buf, std::size_t n) noexcept {
  ERR_clear_error();
  std::size_t got = 0;
  int r = SSL_read_ex(ssl_, buf, n, &got);
  if (r == 1) return {IoOutcome::kOk, got, false};  // one record at most: not known drained
  return failed(r);
}

Io TlsTransport::write(const char* buf, std::size_t n, bool) noexcept {
  ERR_clear_error();
  std::size_t put = 0;
  int r = SSL_write_ex(ssl_, buf, n, &put);
  if (r == 1) return {IoOutcome::kOk, put, false};
  return failed(r);
}

Io TlsTransport::send_file(int fd, std::uint64_t offset, std::size_t n) noexcept {
  ERR_clear_error();
  ossl_ssize_t r =
      SSL_sendfile(ssl_, fd, static_cast<off_t>(offset), std::min<std::size_t>(n, INT_MAX), 0);
  if (r >= 0) return {IoOutcome::kOk, static_cast<std::size_t>(r), false};
  return failed(static_cast<int>(r));
}

void TlsTransport::shutdown_write() noexcept {
  if (established_ && !broken_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify; best effort (a full socket just drops it)
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_WR);
}

bool TlsTransport::session_reused() const noexcept {
  return SSL_session_reused(ssl_) == 1;
}

}  // namespace dfd::host
