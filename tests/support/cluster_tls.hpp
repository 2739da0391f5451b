// TLS in a test cluster (RealCluster and everything built on it): one switch. When on, every
// dfd-host's [server] gets tls_cert/tls_key from a private CA made with scripts/pki (DIR/ca.pem,
// DIR/server.pem, DIR/server.key); the file servers' data planes follow them ([content] TLS
// defaults to [server]'s), so the info server's URL and the file servers' control and content URLs
// say https, and the harness's own requests (http(), wait_http()) and the `dfd` runs
// (DFD_CA_BUNDLE) trust that CA. Tools the suites run themselves (curl, aria2c) need the CA too.
//
// `kControlTlsByDefault` is the switch for every suite (off until the lead flips it), and
// DFD_TEST_TLS=1 in the environment turns it on for one run.
#pragma once

#include <string>

namespace dfd::test {

inline constexpr bool kControlTlsByDefault = false;

class ClusterTls {
 public:
  explicit ClusterTls(std::string dir);  // `dir`: where the CA and certificates go

  bool on = false;  // kControlTlsByDefault, or DFD_TEST_TLS=1

  // "https" or "http".
  std::string scheme() const { return on ? "https" : "http"; }
  // Adds tls_cert and tls_key to the [server] table of the config file `path` (nothing when off).
  // The first call makes the certificates and points the harness's requests at the CA.
  void add_server_keys(const std::string& path);
  // The CA bundle clients need ("" when off).
  std::string ca_file() const { return on ? dir_ + "/ca.pem" : ""; }

 private:
  std::string dir_;
  bool ready_ = false;
};

}  // namespace dfd::test
