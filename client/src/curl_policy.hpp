// What every libcurl handle of the client is allowed to do, in one place (issue 11): only http
// and https, for the first request and for any redirect (a manifest naming gopher:// or file://
// must not make libcurl talk to another service or read a local file), no signals, and a cap on
// the response headers a server may send. Issue 12: the TLS trust and client certificate of
// every handle (info API and data plane alike), TLS 1.2 at least, verification always on.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <optional>
#include <string>

namespace dfd::client {

// Where https peers are checked against, and the optional client certificate (mutual TLS).
// From --cacert / $DFD_CA_BUNDLE, --cert / $DFD_CLIENT_CERT, --key / $DFD_CLIENT_KEY.
struct TlsSettings {
  std::string ca_file;    // PEM CA bundle; empty = the system's store (libcurl's default)
  std::string cert_file;  // PEM client certificate; empty = none
  std::string key_file;   // its PEM private key (default: cert_file)
};

// `given` (from the command line) completed from $DFD_CA_BUNDLE, $DFD_CLIENT_CERT and
// $DFD_CLIENT_KEY for what is empty; every named file must be readable (CliError kUsage naming
// the option and the file otherwise).
TlsSettings tls_settings_from(TlsSettings given);

// Sets the TLS settings every later apply_curl_policy() uses. Call once, from main, before any
// transfer or thread starts (the settings are read without a lock afterwards).
void set_tls_settings(TlsSettings settings);
const TlsSettings& tls_settings();

// For a failed transfer to `base_url` ("https://host:port"): a plain message for the TLS
// failures the user can fix (an untrusted or unverifiable certificate, a bad CA bundle, a client
// certificate problem, a refused handshake), naming the URL, libcurl's reason and what to do;
// nullopt for any other failure. `reason` is libcurl's error text.
std::optional<std::string> tls_failure_message(CURLcode rc, const std::string& base_url,
                                               const std::string& reason);

// " (if the server wants a client certificate: --cert FILE --key FILE)" for a connection to an
// https `base_url` that broke right after the handshake (what a TLS 1.3 server that wants a
// client certificate does when none is sent) while no client certificate is set; "" otherwise.
std::string client_certificate_hint(CURLcode rc, const std::string& base_url);

// Response headers (all lines of one transfer together) above this fail the request.
constexpr std::size_t kMaxHeaderBytes = std::size_t{64} << 10;

// Sets CURLOPT_PROTOCOLS_STR / CURLOPT_REDIR_PROTOCOLS_STR to "http,https" (the bitmask options
// on a libcurl older than 7.85), CURLOPT_NOSIGNAL, a small CURLOPT_MAXREDIRS, TLS 1.2 or newer,
// and the TlsSettings (CURLOPT_CAINFO, CURLOPT_SSLCERT, CURLOPT_SSLKEY). Peer and host name
// verification stay on: dfd has no switch to turn them off.
void apply_curl_policy(CURL* easy);

// Counts the header bytes of one transfer: add() returns false once they pass kMaxHeaderBytes
// (the header callback then returns 0 and libcurl fails the transfer).
class HeaderBudget {
 public:
  bool add(std::size_t n) {
    used_ += n;
    return used_ <= kMaxHeaderBytes;
  }
  bool exceeded() const { return used_ > kMaxHeaderBytes; }

 private:
  std::size_t used_ = 0;
};

}  // namespace dfd::client
