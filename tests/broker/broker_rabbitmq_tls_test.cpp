// broker-rabbitmq over TLS (amqps://) against the binary's real broker, which listens for both
// amqp:// and amqps:// (rabbitmq_fixture.hpp). The conformance suite, the restart and the
// deleted-queue tests also run over amqps (broker_rabbitmq_test.cpp, _hostile_test.cpp).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "event_sink.hpp"
#include "rabbitmq_fixture.hpp"

namespace dfd::test {
namespace {
using namespace std::chrono_literals;

std::string pki(const std::string& dir, const std::string& name) {
  auto r = run({source_dir() + "/scripts/pki", dir, name});
  EXPECT_EQ(r.status, 0) << r.output;
  return dir + "/" + name;
}

// A leaf signed by the broker's own CA (so the chain is trusted) with `ext` extensions, valid
// for `days` (negative: already expired). Returns the path without extension.
std::string leaf(const std::string& dir, const std::string& name, const std::string& ext,
                 int days) {
  const std::string base = dir + "/" + name;
  write_file(base + ".ext", ext + "\n");
  auto r = run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", base + ".key", "-subj", "/CN=" + name, "-out", base + ".csr"});
  EXPECT_EQ(r.status, 0) << r.output;
  r = run({"openssl", "x509", "-req", "-in", base + ".csr", "-CA", RabbitEnv::pki_dir + "/ca.pem",
           "-CAkey", RabbitEnv::pki_dir + "/ca.key", "-CAcreateserial", "-days",
           std::to_string(days), "-extfile", base + ".ext", "-out", base + ".pem"});
  EXPECT_EQ(r.status, 0) << r.output;
  return base;
}

bool accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// What broker-rabbitmq says about a TLS peer (openssl s_server, not RabbitMQ: the handshake is
// all that matters) presenting `base`.pem, with the broker's CA as ca_file.
Status connect_to_tls_peer(const std::string& base) {
  const int port = free_port();
  Process server({"openssl", "s_server", "-quiet", "-accept", "127.0.0.1:" + std::to_string(port),
                  "-cert", base + ".pem", "-key", base + ".key"});
  EXPECT_TRUE(eventually([&] { return accepts(port); }, 10s)) << server.log();
  auto host = std::make_unique<FakeHost>(
      tls_config({{"url", "amqps://guest:guest@127.0.0.1:" + std::to_string(port) + "/"}}),
      "broker-rabbitmq");
  auto r = load_plugin("broker-rabbitmq", *host);
  return r.ok() ? Status::Ok() : r.status();
}

TEST(RabbitBrokerTls, ACertificateForAnotherNameOrOutOfDateIsRefused) {
  TempDir tmp;
  Status other =
      connect_to_tls_peer(leaf(tmp.path(), "other", "subjectAltName=DNS:other.example", 2));
  EXPECT_EQ(other.code(), Code::kUnauthenticated) << other.to_string();
  EXPECT_NE(other.message().find("the broker's certificate is not valid for '127.0.0.1'"),
            std::string::npos)
      << other.message();
  Status expired = connect_to_tls_peer(
      leaf(tmp.path(), "expired", "subjectAltName=IP:127.0.0.1,DNS:localhost", -1));
  EXPECT_EQ(expired.code(), Code::kUnauthenticated) << expired.to_string();
  EXPECT_NE(expired.message().find("outside its validity period (certificate has expired)"),
            std::string::npos)
      << expired.message();
}

TEST(RabbitBrokerTls, PublishesAndConsumesOverAmqps) {
  MAKE_OR_FAIL(a, tls_config());
  EventSink sink;
  ASSERT_TRUE(a.broker->subscribe({"token.*"}, sink.handler()).ok());
  ASSERT_TRUE(a.broker->publish("token.issued", "over-tls", 2s).ok());
  ASSERT_TRUE(sink.wait_for_body("over-tls", 5s));
  Health h = a.plugin.get()->health();
  EXPECT_TRUE(h.healthy) << h.detail;
  EXPECT_NE(h.detail.find("connected to amqps://guest:***@127.0.0.1:" +
                          std::to_string(RabbitEnv::amqps_port)),
            std::string::npos)
      << h.detail;
}

TEST(RabbitBrokerTls, AnUntrustedCertificateFailsStartWithAClearError) {
  TempDir tmp;
  pki(tmp.file("other"), "unused");  // another CA, which never signed RabbitMQ's certificate
  const std::string other_ca = tmp.file("other") + "/ca.pem";
  auto host = std::make_unique<FakeHost>(tls_config({{"ca_file", other_ca}}), "broker-rabbitmq");
  auto r = load_plugin("broker-rabbitmq", *host);
  ASSERT_FALSE(r.ok()) << "connected although the CA never signed the broker's certificate";
  std::cout << "[ info     ] " << r.status().to_string() << "\n";
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().to_string();
  const std::string m = r.status().message();
  EXPECT_NE(m.find("TLS handshake with 127.0.0.1:" + std::to_string(RabbitEnv::amqps_port) +
                   " failed: certificate not trusted by ca_file '" + other_ca + "'"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("guest:guest"), std::string::npos) << m;
}

TEST(RabbitBrokerTls, PlainAmqpToTheTlsPortFailsClearly) {
  const std::string url =
      "amqp://guest:guest@127.0.0.1:" + std::to_string(RabbitEnv::amqps_port) + "/";
  MAKE_OR_FAIL(a, config({{"url", url}}));  // start succeeds: it keeps retrying
  EXPECT_FALSE(a.broker->connected());
  Status st = a.broker->publish("token.issued", "{}", 2s);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.to_string();
  EXPECT_NE(st.message().find("is a TLS listener, use amqps://"), std::string::npos)
      << st.message();
  EXPECT_NE(a.host->log_text().find("use amqps://"), std::string::npos) << a.host->log_text();
}

TEST(RabbitBrokerTls, AmqpsToThePlainPortFailsClearly) {
  const std::string url = "amqps://guest:guest@127.0.0.1:" + std::to_string(RabbitEnv::port) + "/";
  MAKE_OR_FAIL(a, tls_config({{"url", url}}));
  EXPECT_FALSE(a.broker->connected());
  Status st = a.broker->publish("token.issued", "{}", 2s);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.to_string();
  EXPECT_NE(st.message().find("did not answer with TLS"), std::string::npos) << st.message();
}

TEST(RabbitBrokerTls, ConfigErrorsNameTheKey) {
  TempDir tmp;
  const std::string dir = tmp.file("pki");
  pki(dir, "client");
  write_file(tmp.file("not-pem"), "hello\n");
  struct Case {
    ConfigMap cfg;
    std::string key, says;
  };
  ConfigMap no_ca = tls_config();
  no_ca.erase("ca_file");
  const std::vector<Case> cases = {
      {no_ca, "ca_file", "required with amqps://"},
      {config({{"ca_file", RabbitEnv::ca_file}}), "ca_file", "url is plain amqp://"},
      {tls_config({{"ca_file", tmp.file("missing.pem")}}), "ca_file", "No such file"},
      {tls_config({{"ca_file", tmp.file("not-pem")}}), "ca_file", "holds no PEM certificate"},
      {tls_config({{"cert_file", dir + "/client.pem"}}), "key_file", "go together"},
      {tls_config({{"cert_file", dir + "/client.pem"}, {"key_file", dir + "/ca.key"}}), "key_file",
       "is not the key of cert_file"},
  };
  for (const auto& c : cases) {
    auto r = make(c.cfg, false);
    ASSERT_FALSE(r.ok()) << c.says;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().to_string();
    EXPECT_NE(r.status().message().find(c.key), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
  }
  // A client key others may read is refused, like the host's TLS key.
  ASSERT_EQ(::chmod((dir + "/client.key").c_str(), 0644), 0);
  auto r = make(tls_config({{"cert_file", dir + "/client.pem"}, {"key_file", dir + "/client.key"}}),
                false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("key_file"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("chmod 600"), std::string::npos) << r.status().message();
}

TEST(RabbitBrokerTls, AClientCertificateOfTheCaIsAcceptedAndOneOfAnotherCaRefused) {
  const std::string mine = pki(RabbitEnv::pki_dir, "broker-client");
  MAKE_OR_FAIL(a, tls_config({{"cert_file", mine + ".pem"}, {"key_file", mine + ".key"}}));
  ASSERT_TRUE(a.broker->publish("token.issued", "with-client-cert", 2s).ok());

  TempDir tmp;
  const std::string stranger = pki(tmp.file("other"), "stranger");
  MAKE_OR_FAIL(b, tls_config({{"cert_file", stranger + ".pem"}, {"key_file", stranger + ".key"}}));
  EXPECT_FALSE(b.broker->connected());
  Status st = b.broker->publish("token.issued", "{}", 2s);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.to_string();
  EXPECT_NE(st.message().find("client certificate"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace dfd::test
