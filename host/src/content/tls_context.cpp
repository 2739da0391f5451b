#include "content/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fstream>
#include <sstream>

namespace dfd::host {

namespace {

// ALPN: only HTTP/1.1 is spoken here.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kAlpnHttp11, sizeof kAlpnHttp11, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol (RFC 7301 §3.2)
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::string openssl_error_text() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Result<std::unique_ptr<TlsContext>> TlsContext::create(const std::string& cert_file,
                                                       const std::string& key_file) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + openssl_error_text());
  std::unique_ptr<TlsContext> owner(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_ENABLE_KTLS);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE);
  // Resumption by stateless tickets only (TLS 1.2 RFC 5077 and TLS 1.3 PSK): no server-side
  // session cache to lock across loops or to grow; one ticket per full handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_timeout(ctx, 3600);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::InvalidArgument("certificate '" + cert_file +
                                   "' cannot be used: " + openssl_error_text());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::InvalidArgument("private key '" + key_file +
                                   "' cannot be used: " + openssl_error_text());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument("private key '" + key_file + "' does not match certificate '" +
                                   cert_file + "'");
  }
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

Status check_tls_files(const std::string& cert_file, const std::string& key_file) {
  struct stat st {};
  errno = 0;
  if (::stat(cert_file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("certificate '" + cert_file + "' is not a readable file" +
                                   (errno != 0 ? std::string(": ") + std::strerror(errno) : ""));
  }
  errno = 0;
  if (::stat(key_file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("private key '" + key_file + "' is not a readable file" +
                                   (errno != 0 ? std::string(": ") + std::strerror(errno) : ""));
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return Status::InvalidArgument("private key '" + key_file +
                                   "' must be owned by this user and readable by nobody else "
                                   "(chmod 600)");
  }
  auto ctx = TlsContext::create(cert_file, key_file);
  return ctx.ok() ? Status::Ok() : ctx.status();
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
