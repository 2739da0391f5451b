// The data plane's TLS configuration: one OpenSSL SSL_CTX shared by every event loop
// (docs/file-server.md, "TLS").
//
// TLS 1.2 and 1.3 only; ALPN selects "http/1.1" (a client offering only other protocols gets a
// no_application_protocol alert); session resumption with stateless tickets for both versions
// (ticket keys are random per process, so a restart or another server means a full handshake);
// renegotiation off; a peer closing without close_notify is an ordinary end of stream.
// SSL_MODE_RELEASE_BUFFERS frees a session's record buffers whenever they are empty, so an idle
// TLS connection costs only its SSL object. SSL_OP_ENABLE_KTLS asks OpenSSL to hand the record
// layer to the kernel where the kernel offers the `tls` ULP (not on this project's build
// machines: see TlsTransport::ktls_send()).
//
// Thread-safety: create() from one thread; session() from any loop thread concurrently (the
// SSL_CTX is only read after create(); OpenSSL locks its reference counts itself).
#pragma once

#include <memory>
#include <string>

#include "content/tls_transport.hpp"
#include "dfd/status.hpp"

struct ssl_ctx_st;

namespace dfd::host {

class TlsContext {
 public:
  // Loads the certificate chain and private key (PEM files). Errors name the file and OpenSSL's
  // reason, never the key's content.
  static Result<std::unique_ptr<TlsContext>> create(const std::string& cert_file,
                                                    const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server-side session over the connected socket `fd` (not owned), in accept state; nullptr
  // when OpenSSL cannot allocate one.
  std::unique_ptr<TlsTransport> session(int fd) noexcept;

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

// True when this kernel lists the `tls` upper-layer protocol (kTLS) in
// /proc/sys/net/ipv4/tcp_available_ulp. Only a hint for the start-up log line: whether a
// connection really uses kTLS is TlsTransport::ktls_send() after its handshake.
bool kernel_offers_ktls() noexcept;

// Checks a certificate/key pair before a server starts: both regular files, the key owned by
// this user and not readable by group or others, and both usable by OpenSSL (the key matching
// the certificate). Messages start with "certificate" or "private key" (the file they are about)
// and never contain key material.
Status check_tls_files(const std::string& cert_file, const std::string& key_file);

// The last OpenSSL error of this thread as text (and clears the queue); "" when none.
std::string openssl_error_text();

}  // namespace dfd::host
