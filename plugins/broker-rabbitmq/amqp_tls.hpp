// TLS for broker-rabbitmq (amqps://): the config keys and their checks, and the TLS socket of
// one connection with failure messages that say what went wrong.
//
// Verification cannot be switched off: an amqps:// URL needs `ca_file`, the broker's certificate
// chain must end at a certificate of that file, and the certificate must name the URL's host
// (subjectAltName DNS name, or IP address when the host is an IP literal), checked by OpenSSL
// during the handshake. TLS 1.2 and 1.3 only.
//
// Thread-safety: load_tls_files is a pure function of the config and the files. A TlsSocket
// belongs to the AmqpConnection (and thread) that made it.
#pragma once

#include <amqp.h>

#include <memory>
#include <string>

#include "dfd/host_services.hpp"
#include "dfd/status.hpp"

namespace dfd::broker_rabbitmq {

struct TlsFiles {
  std::string ca_file;    // PEM certificates that may sign the broker's chain (required for TLS)
  std::string cert_file;  // optional client certificate chain (PEM), with key_file
  std::string key_file;   // its private key (PEM); a private file (dfd/private_file.hpp)
};

// Reads `ca_file`, `cert_file` and `key_file` from `cfg`. With `amqps`, ca_file is required;
// without it, any of the three is refused (a plain URL would ignore them silently). Each file is
// loaded once here so that a mistake is a config error naming file:line:key: unreadable, not
// PEM, a key that does not match its certificate, or a key file another user owns or that group
// or others may read. Never prints a file's content.
Status load_tls_files(const Config& cfg, bool amqps, TlsFiles& out);

// Frees what rabbitmq-c set up process-wide for its TLS sockets (its OpenSSL BIO method), once
// no TLS connection is left; a later TLS socket sets it up again. Call when an instance that
// used amqps:// is destroyed: rabbitmq-c would otherwise keep it until the process ends, after
// the plugin's library (and with it the pointer) was unloaded, which LeakSanitizer reports.
void release_tls_library() noexcept;

// The TLS socket of one connection. Remembers the first certificate verification error of its
// handshake, so that a failed open can be explained.
class TlsSocket {
 public:
  // Makes the SSL socket on `conn` (rabbitmq-c owns it and frees it with the connection; this
  // object must live at least as long as `conn`). kInvalidArgument when a file cannot be loaded.
  static Result<std::unique_ptr<TlsSocket>> create(amqp_connection_state_t conn,
                                                   const TlsFiles& files, const std::string& host);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  amqp_socket_t* socket() const { return socket_; }

  // "TLS handshake with 127.0.0.1:5671 failed: certificate not trusted by ca_file '/x/ca.pem'
  // (unable to get local issuer certificate)" and the like, for a failed amqp_socket_open
  // returning `rc`. Reads (and clears) this thread's OpenSSL error queue.
  std::string explain_open_failure(int rc, const std::string& host_port) const;
  // After an AMQP call failed with AMQP_STATUS_SSL_ERROR on an open connection (with TLS 1.3
  // RabbitMQ checks a client certificate after the handshake): " (TLS ...)" with what is known.
  std::string explain_session_failure() const;
  // The broker's certificate failed verification (untrusted, wrong name, expired).
  bool verify_failed() const { return verify_error_ != 0; }

  // Called by OpenSSL for each certificate of the chain (public for the C callback only).
  void note_verify_result(int error, int depth);

 private:
  TlsSocket() = default;
  static std::string explain_alert(const std::string& reason);
  amqp_socket_t* socket_ = nullptr;
  std::string ca_file_, host_;
  int verify_error_ = 0;  // X509_V_OK
  int verify_depth_ = -1;
};

}  // namespace dfd::broker_rabbitmq
