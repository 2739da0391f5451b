// TLS in a test cluster (RealCluster and everything built on it): one switch, on by default. When
// on, every hop of the cluster is TLS, as `scripts/cluster up` runs it: every dfd-host's [server]
// gets tls_cert/tls_key from a private CA made with scripts/pki (DIR/ca.pem, DIR/server.pem,
// DIR/server.key), the file servers' data planes follow them ([content] TLS defaults to
// [server]'s), RabbitMQ runs with its amqps listener (scripts/rabbitmq start --tls DIR) and every
// broker-rabbitmq connects with amqps:// and ca_file. So the info server's URL and the file
// servers' control and content URLs say https, the broker URL amqps, and the harness's own requests
// (http(), wait_http()) and the `dfd` runs (DFD_CA_BUNDLE) trust that CA. Tools the suites run
// themselves (curl, aria2c, a FakeHost broker) need the CA too.
//
// `kTlsByDefault` is the switch for every suite; DFD_TEST_TLS=0 in the environment turns TLS off
// for one run (the plain-mode ctest runs a suite so), DFD_TEST_TLS=1 turns it on.
#pragma once

#include <string>
#include <vector>

namespace dfd::test {

inline constexpr bool kTlsByDefault = true;

class ClusterTls {
 public:
  explicit ClusterTls(std::string dir);  // `dir`: where the CA and certificates go

  bool on = false;  // kTlsByDefault, unless DFD_TEST_TLS says 0 or 1

  // "https" or "http".
  std::string scheme() const { return on ? "https" : "http"; }
  // The CA and certificates (made once) and the harness's requests pointed at the CA; nothing when
  // off. The other members call it.
  void make_certificates();
  // What `scripts/rabbitmq start DIR` needs after DIR: {"--tls", dir} when on.
  std::vector<std::string> rabbitmq_start_args();
  // The rabbitmq.env variable with the URL servers use: DFD_AMQPS_URL when on, else DFD_AMQP_URL.
  std::string amqp_url_variable() const { return on ? "DFD_AMQPS_URL" : "DFD_AMQP_URL"; }
  // Rewrites the config file `path` for TLS (nothing when off): tls_cert and tls_key at the top of
  // its [server] table, and `ca_file` after every `url = "amqps://...` or `urls = ["amqps://...`
  // line (broker-rabbitmq).
  void apply_to(const std::string& path);
  // The CA bundle clients need ("" when off).
  std::string ca_file() const { return on ? dir_ + "/ca.pem" : ""; }

 private:
  std::string dir_;
  bool ready_ = false;
};

}  // namespace dfd::test
