#include "amqp_tls.hpp"

#include <amqp_ssl_socket.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "dfd/openssl_error.hpp"
#include "dfd/private_file.hpp"

namespace dfd::broker_rabbitmq {

namespace {

// Whether rabbitmq-c's process-wide TLS state is set up (by amqp_ssl_socket_new): its
// amqp_uninitialize_ssl_library() asserts when called without it, so only release_tls_library()
// calls it, and only then.
std::mutex g_tls_library_mu;
bool g_tls_library_live = false;

// The reason text of the oldest error in this thread's OpenSSL queue ("certificate verify
// failed", "wrong version number"); the queue is cleared. Empty when there was none.
std::string take_openssl_reason() {
  return take_openssl_error(OpensslErrorText::kReason);
}

struct CtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

// "cannot read 'x': No such file or directory" when `path` cannot be opened; empty otherwise.
std::string unreadable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "cannot read '" + path + "': " + std::strerror(errno);
  std::fclose(f);
  return {};
}

int ctx_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

extern "C" int remember_verify_result(int ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (!ok && ssl) {
    auto* self = static_cast<TlsSocket*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index()));
    if (self) {
      self->note_verify_result(X509_STORE_CTX_get_error(store),
                               X509_STORE_CTX_get_error_depth(store));
    }
  }
  return ok;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool contains(const std::string& text, const char* what) {
  return text.find(what) != std::string::npos;
}

}  // namespace

Status load_tls_files(const Config& cfg, bool amqps, TlsFiles& out) {
  out = TlsFiles{};
  const char* keys[] = {"ca_file", "cert_file", "key_file"};
  std::string* fields[] = {&out.ca_file, &out.cert_file, &out.key_file};
  for (int i = 0; i < 3; ++i) {
    if (!cfg.has(keys[i])) continue;
    if (!amqps) {
      return cfg.error(keys[i], "set, but url is plain amqp://: use amqps:// (TLS) or remove it");
    }
    auto v = cfg.get_string(keys[i]);
    if (!v.ok()) return v.status();
    if (v->empty()) return cfg.error(keys[i], "must not be empty");
    *fields[i] = *v;
  }
  if (!amqps) return Status::Ok();
  if (out.ca_file.empty()) {
    return cfg.error("ca_file",
                     "required with amqps:// (PEM file of the CA that signed RabbitMQ's "
                     "certificate; the broker is always verified)");
  }
  if (out.cert_file.empty() != out.key_file.empty()) {
    return cfg.error(out.cert_file.empty() ? "cert_file" : "key_file",
                     "cert_file and key_file go together (a client certificate and its key)");
  }
  std::unique_ptr<SSL_CTX, CtxDeleter> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::ResourceExhausted("SSL_CTX_new failed: " + take_openssl_reason());
  ERR_clear_error();
  if (std::string why = unreadable(out.ca_file); !why.empty()) return cfg.error("ca_file", why);
  if (SSL_CTX_load_verify_locations(ctx.get(), out.ca_file.c_str(), nullptr) != 1) {
    return cfg.error("ca_file", "'" + out.ca_file + "' holds no PEM certificate (" +
                                    take_openssl_reason() + ")");
  }
  if (out.cert_file.empty()) return Status::Ok();
  if (std::string why = unreadable(out.cert_file); !why.empty()) {
    return cfg.error("cert_file", why);
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), out.cert_file.c_str()) != 1) {
    return cfg.error("cert_file", "'" + out.cert_file + "' holds no PEM certificate (" +
                                      take_openssl_reason() + ")");
  }
  if (Status st = check_private_file(out.key_file); !st.ok()) {
    return cfg.error("key_file", st.message());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), out.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string reason = take_openssl_reason();
    if (contains(reason, "mismatch")) {
      return cfg.error(
          "key_file", "'" + out.key_file + "' is not the key of cert_file '" + out.cert_file + "'");
    }
    return cfg.error(
        "key_file", "'" + out.key_file + "' holds no unencrypted PEM private key (" + reason + ")");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    take_openssl_reason();
    return cfg.error("key_file",
                     "'" + out.key_file + "' is not the key of cert_file '" + out.cert_file + "'");
  }
  return Status::Ok();
}

Result<std::unique_ptr<TlsSocket>> TlsSocket::create(amqp_connection_state_t conn,
                                                     const TlsFiles& files,
                                                     const std::string& host) {
  std::unique_ptr<TlsSocket> self(new TlsSocket());
  self->ca_file_ = files.ca_file;
  self->host_ = host;
  ERR_clear_error();
  {
    std::lock_guard<std::mutex> lock(g_tls_library_mu);
    self->socket_ = amqp_ssl_socket_new(conn);
    if (self->socket_) g_tls_library_live = true;
  }
  if (!self->socket_) {
    return Status::ResourceExhausted("amqp_ssl_socket_new failed: " + take_openssl_reason());
  }
  auto* ctx = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(self->socket_));
  if (!ctx) return Status::Internal("rabbitmq-c gave no SSL context");
  SSL_CTX_set_ex_data(ctx, ctx_index(), self.get());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // OpenSSL checks the name during the handshake, so a mismatch fails it with a reason
  // (X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH) that our callback records.
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int named = is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                        : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (named != 1) return Status::InvalidArgument("cannot verify TLS host name '" + host + "'");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &remember_verify_result);
  amqp_ssl_socket_set_verify_peer(self->socket_, 1);
  // rabbitmq-c's own host check after the handshake knows DNS names only (an IP literal such
  // as 127.0.0.1 never matches it); OpenSSL's check above covers both and cannot be skipped.
  amqp_ssl_socket_set_verify_hostname(self->socket_, 0);
  if (amqp_ssl_socket_set_cacert(self->socket_, files.ca_file.c_str()) != AMQP_STATUS_OK) {
    return Status::InvalidArgument("cannot load ca_file '" + files.ca_file +
                                   "': " + take_openssl_reason());
  }
  if (!files.cert_file.empty() &&
      amqp_ssl_socket_set_key(self->socket_, files.cert_file.c_str(), files.key_file.c_str()) !=
          AMQP_STATUS_OK) {
    return Status::InvalidArgument("cannot load cert_file '" + files.cert_file + "' / key_file '" +
                                   files.key_file + "': " + take_openssl_reason());
  }
  return self;
}

TlsSocket::~TlsSocket() = default;

void TlsSocket::note_verify_result(int error, int depth) {
  if (verify_error_ == X509_V_OK) {
    verify_error_ = error;
    verify_depth_ = depth;
  }
}

std::string TlsSocket::explain_alert(const std::string& reason) {
  if (!contains(reason, "alert")) return {};
  return "RabbitMQ refused it (" + reason +
         "): it may want a client certificate it trusts (cert_file, key_file) or other TLS "
         "versions (TLS 1.2 and 1.3 are offered)";
}

std::string TlsSocket::explain_session_failure() const {
  const std::string reason = take_openssl_reason();
  std::string alert = explain_alert(reason);
  if (!alert.empty()) return " (TLS: " + alert + ")";
  // rabbitmq-c clears OpenSSL's error queue on its way out: the reason is often lost.
  return " (TLS session failed after the handshake" + (reason.empty() ? "" : ": " + reason) +
         "; with TLS 1.3 this is how RabbitMQ refuses a client certificate it does not trust, "
         "or the lack of one it requires)";
}

std::string TlsSocket::explain_open_failure(int rc, const std::string& host_port) const {
  const std::string reason = take_openssl_reason();
  std::string msg = "TLS handshake with " + host_port + " failed: ";
  if (verify_error_ != X509_V_OK) {
    const std::string x509 = X509_verify_cert_error_string(verify_error_);
    switch (verify_error_) {
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return msg + "the broker's certificate is not valid for '" + host_ + "' (" + x509 +
               "; its subjectAltName must name the host of the url)";
      case X509_V_ERR_CERT_HAS_EXPIRED:
      case X509_V_ERR_CERT_NOT_YET_VALID:
        return msg + "the broker's certificate (chain depth " + std::to_string(verify_depth_) +
               ") is outside its validity period (" + x509 + ")";
      default:
        return msg + "certificate not trusted by ca_file '" + ca_file_ + "' (" + x509 + ")";
    }
  }
  if (contains(reason, "wrong version number") || contains(reason, "packet length too long") ||
      contains(reason, "record layer failure") || contains(reason, "unexpected eof")) {
    return msg + "the server did not answer with TLS (" + reason +
           "): is this port a plain amqp:// listener?";
  }
  if (std::string alert = explain_alert(reason); !alert.empty()) return msg + alert;
  msg += amqp_error_string2(rc);
  if (!reason.empty()) msg += " (" + reason + ")";
  return msg;
}

void release_tls_library() noexcept {
  // AMQP_STATUS_SOCKET_INUSE while another instance still has a TLS connection: that one's
  // destructor frees it.
  std::lock_guard<std::mutex> lock(g_tls_library_mu);
  if (g_tls_library_live && amqp_uninitialize_ssl_library() == AMQP_STATUS_OK) {
    g_tls_library_live = false;
  }
}

}  // namespace dfd::broker_rabbitmq
