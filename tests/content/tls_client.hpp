// A blocking TLS client for the data-plane tests (OpenSSL): verifies the server's certificate
// against a CA file (name 127.0.0.1), offers ALPN protocols, can resume an earlier session and
// cap the TLS version; reads HTTP/1.1 responses like RawClient.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "content_doubles.hpp"

namespace dfd::test {

using SessionPtr = std::shared_ptr<SSL_SESSION>;

struct TlsClientOptions {
  std::string ca_file;
  std::vector<std::string> alpn = {"http/1.1"};  // empty: no ALPN extension
  SessionPtr resume;                             // a session to resume
  int max_version = 0;                           // e.g. TLS1_2_VERSION; 0 = TLS 1.3
  int rcvbuf = 0;                                // SO_RCVBUF (a small one makes a slow reader)
};

class TlsClient {
 public:
  TlsClient(int port, const TlsClientOptions& o) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (o.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, o.max_version);
    SSL_CTX_load_verify_locations(ctx_, o.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    // No client cache: freeing a context flushes its cache, which marks sessions not resumable.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (o.rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &o.rcvbuf, sizeof o.rcvbuf);
    timeval tv{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set1_host(ssl_, "127.0.0.1");
    if (!o.alpn.empty()) {
      std::string wire;
      for (const auto& p : o.alpn) wire += static_cast<char>(p.size()) + p;
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
    if (o.resume) SSL_set_session(ssl_, o.resume.get());
    connected_ = SSL_connect(ssl_) == 1;
    if (!connected_) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
      error_ = buf;
    }
  }
  ~TlsClient() {
    // close_notify first: OpenSSL marks a session that ended without it as not resumable.
    if (ssl_ && connected_) SSL_shutdown(ssl_);
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }
  bool reused() const { return ssl_ && SSL_session_reused(ssl_) == 1; }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl_, &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  // The session to resume later (TLS 1.3: call after a response was read, so that the ticket
  // that follows the handshake was processed).
  SessionPtr session() const { return SessionPtr(SSL_get1_session(ssl_), SSL_SESSION_free); }

  bool send_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      std::size_t n = 0;
      if (SSL_write_ex(ssl_, s.data() + off, s.size() - off, &n) != 1) return false;
      off += n;
    }
    return true;
  }
  // Reads up to `n` plaintext bytes (a slow reader reads 1 at a time); 0 at EOF or error.
  std::size_t read_some(char* buf, std::size_t n) {
    std::size_t got = 0;
    if (SSL_read_ex(ssl_, buf, n, &got) != 1) return 0;
    return got;
  }
  RawResponse read_response(bool head = false) {
    return read_http_response(buf_, head, [&] {
      char c[65536];
      std::size_t n = read_some(c, sizeof c);
      buf_.append(c, n);
      return n > 0;
    });
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
  std::string error_;
  std::string buf_;
};

}  // namespace dfd::test
