// The control plane's TLS material ([server] tls_cert, tls_key, tls_client_ca): checks the files
// and builds the OpenSSL server context from them.
//
// The checks run when the config is loaded (so `dfd-host --check` catches them and the error
// names file:line:key, see config.cpp), and again when the listener is built (the files are
// read once more then; what was checked is what is used):
//   - tls_cert: a PEM certificate chain (leaf first), readable;
//   - tls_key: a PEM private key in a regular file owned by the running user with no permission
//     bits for group or others (chmod 600); it must match the certificate's public key. Its bytes
//     are read from the opened descriptor that was checked (no check-then-open race) and wiped
//     after parsing; no message ever contains them;
//   - tls_client_ca (optional): PEM CA certificates; when set, clients must present a
//     certificate signed by one of them (mutual TLS).
// The context allows TLS 1.2 and 1.3 only, no compression, no renegotiation, ALPN "http/1.1".
//
// Thread-safety: free functions without shared state; the returned context is immutable and may
// be shared by every connection (OpenSSL contexts are thread-safe once set up).
#pragma once

#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace dfd::host {

struct TlsFiles {
  std::string cert;       // [server] tls_cert; empty = TLS off
  std::string key;        // [server] tls_key
  std::string client_ca;  // [server] tls_client_ca; empty = no client certificate asked
  bool enabled() const { return !cert.empty(); }
};

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const noexcept;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// A refusal names the config key it is about ("tls_cert", "tls_key", "tls_client_ca") and says
// what is wrong without the key's bytes.
struct TlsRefusal {
  std::string key;
  std::string message;
};

// Builds the server context; on failure `*refusal` says which key and why and nullptr is returned.
SslCtxPtr make_server_tls_context(const TlsFiles& files, TlsRefusal* refusal);

}  // namespace dfd::host
