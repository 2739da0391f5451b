#include "curl_policy.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util.hpp"

namespace dfd::client {
namespace {
TlsSettings g_tls;  // written once by main before any thread (set_tls_settings)
}  // namespace

TlsSettings tls_settings_from(TlsSettings given) {
  struct Field {
    std::string* value;
    const char* env;
    const char* option;
  };
  for (const Field& f : {Field{&given.ca_file, "DFD_CA_BUNDLE", "--cacert"},
                         Field{&given.cert_file, "DFD_CLIENT_CERT", "--cert"},
                         Field{&given.key_file, "DFD_CLIENT_KEY", "--key"}}) {
    const char* from_env = std::getenv(f.env);
    bool by_env = f.value->empty() && from_env && *from_env;
    if (by_env) *f.value = from_env;
    if (!f.value->empty() && ::access(f.value->c_str(), R_OK) != 0) {
      throw CliError(exit_code::kUsage, std::string(by_env ? f.env : f.option) + " " + *f.value +
                                            ": cannot read: " + std::strerror(errno));
    }
  }
  if (!given.key_file.empty() && given.cert_file.empty()) {
    throw CliError(exit_code::kUsage,
                   "--key (or DFD_CLIENT_KEY) needs --cert (or DFD_CLIENT_CERT)");
  }
  return given;
}

void set_tls_settings(TlsSettings settings) {
  g_tls = std::move(settings);
}

const TlsSettings& tls_settings() {
  return g_tls;
}

std::optional<std::string> tls_failure_message(CURLcode rc, const std::string& base_url,
                                               const std::string& reason) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
      return "TLS certificate of " + base_url + " not trusted: " + reason +
             "; pass --cacert FILE or set DFD_CA_BUNDLE";
    case CURLE_SSL_CACERT_BADFILE:
      return "cannot use the CA bundle " +
             (g_tls.ca_file.empty() ? std::string("of the system") : "'" + g_tls.ca_file + "'") +
             " for " + base_url + ": " + reason;
    case CURLE_SSL_CERTPROBLEM:
      return "cannot use the client certificate '" + g_tls.cert_file + "' for " + base_url + ": " +
             reason;
    case CURLE_SSL_CONNECT_ERROR:
      return "TLS handshake with " + base_url + " failed: " + reason +
             client_certificate_hint(rc, base_url);
    default:
      return std::nullopt;
  }
}

std::string client_certificate_hint(CURLcode rc, const std::string& base_url) {
  bool fits = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR;
  if (!fits || !g_tls.cert_file.empty() || base_url.rfind("https://", 0) != 0) return "";
  return " (if the server wants a client certificate: --cert FILE --key FILE)";
}

void apply_curl_policy(CURL* easy) {
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS,
                   static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(easy, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!g_tls.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, g_tls.ca_file.c_str());
  if (!g_tls.cert_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_SSLCERT, g_tls.cert_file.c_str());
    curl_easy_setopt(easy, CURLOPT_SSLKEY,
                     (g_tls.key_file.empty() ? g_tls.cert_file : g_tls.key_file).c_str());
  }
}

}  // namespace dfd::client
