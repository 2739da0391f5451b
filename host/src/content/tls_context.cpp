#include "content/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fstream>

#include "tls_files.hpp"

namespace dfd::host {

Result<std::unique_ptr<TlsContext>> TlsContext::create(const std::string& cert_file,
                                                       const std::string& key_file) {
  // The checks, the key handling and the settings shared with the control plane (TLS 1.2+, no
  // renegotiation, ALPN http/1.1, released buffers, partial writes) are tls_files.cpp's.
  TlsRefusal refusal;
  SslCtxPtr shared = make_server_tls_context({cert_file, key_file, ""}, &refusal);
  if (!shared) return Status::InvalidArgument(refusal.key + ": " + refusal.message);
  SSL_CTX* ctx = shared.release();
  std::unique_ptr<TlsContext> owner(new TlsContext(ctx));
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // kTLS where the kernel offers it; a peer closing without close_notify is an end of stream.
  SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Resumption by stateless tickets only (TLS 1.2 RFC 5077 and TLS 1.3 PSK): no server-side
  // session cache to lock across loops or to grow; one ticket per full handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_timeout(ctx, 3600);
  return owner;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

std::unique_ptr<TlsTransport> TlsContext::session(int fd) noexcept {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  if (SSL_set_fd(ssl, fd) != 1) {  // a socket BIO that does not close fd
    SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  try {
    return std::make_unique<TlsTransport>(ssl, fd);
  } catch (...) {
    SSL_free(ssl);
    return nullptr;
  }
}

bool kernel_offers_ktls() noexcept {
  try {
    std::ifstream in("/proc/sys/net/ipv4/tcp_available_ulp");
    std::string word;
    while (in >> word) {
      if (word == "tls") return true;
    }
  } catch (...) {
  }
  return false;
}

}  // namespace dfd::host
