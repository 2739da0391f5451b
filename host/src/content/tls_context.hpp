// The data plane's TLS configuration: one OpenSSL SSL_CTX shared by every event loop
// (docs/file-server.md, "TLS").
//
// Built on the control plane's make_server_tls_context() (tls_files.hpp: the file checks, the
// key read through one checked descriptor, TLS 1.2+, no renegotiation, ALPN "http/1.1" when
// offered, SSL_MODE_RELEASE_BUFFERS and partial writes), plus what the data plane needs: TLS 1.3
// at most, session resumption with stateless tickets for both versions (ticket keys are random
// per process, so a restart or another server means a full handshake), a peer closing without
// close_notify as an ordinary end of stream, and SSL_OP_ENABLE_KTLS, which asks OpenSSL to hand
// the record layer to the kernel where the kernel offers the `tls` ULP (not on this project's
// build machines: see TlsTransport::ktls_send()).
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
  // Loads the certificate chain and private key (PEM files). Errors start with the config key
  // they are about ("tls_cert: ...", "tls_key: ...") and never contain the key's content.
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

}  // namespace dfd::host
