#include "tls_files.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string_view>

#include "dfd/openssl_error.hpp"
#include "dfd/private_file.hpp"

namespace dfd::host {
namespace {

// The oldest OpenSSL error of this thread, then the queue cleared.
std::string openssl_reason() {
  std::string out = take_openssl_error();
  return out.empty() ? std::string("unknown OpenSSL error") : out;
}

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};

// The key file's bytes (dfd/private_file.hpp checks it). Empty on refusal.
std::string read_private_key(const std::string& path, TlsRefusal* refusal) {
  auto bytes = read_private_file(path);
  if (!bytes.ok()) {
    *refusal = {"tls_key", bytes.status().message()};
    return {};
  }
  return std::move(bytes).value();
}

int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                  unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = "\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11 - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no ALPN match: carry on without ALPN (HTTP/1.1 anyway)
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

void SslCtxFree::operator()(SSL_CTX* ctx) const noexcept {
  SSL_CTX_free(ctx);
}

SslCtxPtr make_server_tls_context(const TlsFiles& files, TlsRefusal* refusal) {
  ERR_clear_error();
  if (files.key.empty()) {
    *refusal = {"tls_key", "is required when tls_cert is set"};
    return nullptr;
  }
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    *refusal = {"tls_cert", "cannot create a TLS context: " + openssl_reason()};
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Pistache retries a partial write from where it stopped; the buffer may have moved.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_http11, nullptr);
  static const unsigned char kSessionContext[] = "dfd-control";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);

  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1) {
    *refusal = {"tls_cert",
                "'" + files.cert + "' is not a readable PEM certificate: " + openssl_reason()};
    return nullptr;
  }
  std::string key_pem = read_private_key(files.key, refusal);
  if (key_pem.empty()) return nullptr;
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
  {
    std::unique_ptr<BIO, BioFree> bio(
        BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    // No password callback input: an encrypted key is refused, not prompted for.
    pkey.reset(bio ? PEM_read_bio_PrivateKey(
                         bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr)
                   : nullptr);
  }
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  if (!pkey) {
    ERR_clear_error();  // the reason may quote the input
    *refusal = {"tls_key", "'" + files.key + "' is not an unencrypted PEM private key"};
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), pkey.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    *refusal = {"tls_key", "'" + files.key + "' does not match the certificate in '" + files.cert +
                               "' (tls_cert)"};
    return nullptr;
  }
  if (!files.client_ca.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str());
    if (names == nullptr || sk_X509_NAME_num(names) == 0 ||
        SSL_CTX_load_verify_locations(ctx.get(), files.client_ca.c_str(), nullptr) != 1) {
      if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
      *refusal = {"tls_client_ca",
                  "'" + files.client_ca +
                      "' is not a readable PEM file of CA certificates: " + openssl_reason()};
      return nullptr;
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  ERR_clear_error();
  return ctx;
}

}  // namespace dfd::host
