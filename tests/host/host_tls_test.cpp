// HTTPS on the control plane (issue 12) against real dfd-host processes over loopback, with
// certificates from scripts/pki: /healthz and friends over https with the CA; plain http and an
// untrusted CA refused; mutual TLS; the key file's mode and a mismatched key refused at config
// time (also by --check) with file:line:key; a handshake flood and silent TLS clients do not keep
// a normal https client out, and are cut off by the handshake timeout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "harness.hpp"
#include "host_process.hpp"
#include "tls_client.hpp"  // tests/content: a blocking OpenSSL client

namespace {
using dfd::test::connect_from;
using dfd::test::Host;
using dfd::test::HostSetup;
using dfd::test::http;
using dfd::test::HttpTls;
using dfd::test::set_http_tls;
using dfd::test::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// One CA and server/client/other leaves for the whole suite.
class HostTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    ASSERT_TRUE(dfd::test::make_pki(pki_->path(), {"server", "client", "other"}));
    // A second CA whose certificates the host does not trust.
    ASSERT_TRUE(dfd::test::make_pki(pki_->file("rogue"), {"client"}));
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override { set_http_tls({pki("ca.pem"), "", ""}); }
  void TearDown() override { set_http_tls({}); }

  static std::string pki(const std::string& name) { return pki_->file(name); }
  static std::string tls_keys(const std::string& cert = "server.pem",
                              const std::string& key = "server.key") {
    return "tls_cert = \"" + pki(cert) + "\"\ntls_key = \"" + pki(key) + "\"\n";
  }
  static HostSetup https_setup(const std::string& server_keys) {
    HostSetup s = Host::setup_of("", server_keys);
    s.https = true;
    return s;
  }
  static TempDir* pki_;
};
TempDir* HostTls::pki_ = nullptr;

TEST_F(HostTls, HealthAndProbesAnswerOverHttpsWithTheCa) {
  Host h(https_setup(tls_keys()));
  ASSERT_TRUE(h.ready()) << h.proc().log();
  for (const char* path : {"/healthz", "/livez", "/readyz"}) {
    auto r = http("GET", h.url(path));
    EXPECT_EQ(r.status, 200) << path << ": " << r.error;
  }
  // A loopback listener without an admin token shows /metrics to local callers.
  auto m = http("GET", h.url("/metrics"));
  EXPECT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("dfd_http_requests_total"));
  EXPECT_THAT(h.proc().log(), HasSubstr("control plane on https://127.0.0.1:"));
}

TEST_F(HostTls, PlainHttpIsRefused) {
  Host h(https_setup(tls_keys()));
  ASSERT_TRUE(h.ready()) << h.proc().log();
  auto r = http("GET", "http://127.0.0.1:" + std::to_string(h.port()) + "/healthz", {}, "", 5000);
  EXPECT_EQ(r.status, 0) << "a plain-http request was answered: " << r.body;
  // The server is still fine afterwards.
  EXPECT_EQ(http("GET", h.url("/healthz")).status, 200);
}

TEST_F(HostTls, WithoutTheCaTheCertificateIsNotTrusted) {
  Host h(https_setup(tls_keys()));
  ASSERT_TRUE(h.ready()) << h.proc().log();
  set_http_tls({});  // the system store does not know the private CA
  auto r = http("GET", h.url("/healthz"));
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.error, HasSubstr("certificate"));
  set_http_tls({pki("rogue/ca.pem"), "", ""});
  EXPECT_EQ(http("GET", h.url("/healthz")).status, 0);
}

TEST_F(HostTls, MutualTlsRefusesClientsWithoutAGoodCertificate) {
  Host h(https_setup(tls_keys() + "tls_client_ca = \"" + pki("ca.pem") + "\"\n"));
  set_http_tls({pki("ca.pem"), pki("client.pem"), pki("client.key")});
  ASSERT_TRUE(h.ready()) << h.proc().log();
  EXPECT_EQ(http("GET", h.url("/healthz")).status, 200);

  set_http_tls({pki("ca.pem"), "", ""});  // no client certificate
  auto r = http("GET", h.url("/healthz"));
  EXPECT_EQ(r.status, 0) << r.body;

  // A certificate from another CA.
  set_http_tls({pki("ca.pem"), pki("rogue/client.pem"), pki("rogue/client.key")});
  EXPECT_EQ(http("GET", h.url("/healthz")).status, 0);
  EXPECT_THAT(h.proc().log(), HasSubstr("client certificates required"));
}

struct Refusal {
  int status = -1;
  std::string log;
  std::string where;  // "CONFIG:LINE: [server] key 'KEY'" for the key asked about
};

// Starts a host with `server_keys` (it must not serve) and says where `key` is in its config.
Refusal refused_start(const std::string& server_keys, std::vector<std::string> args,
                      const std::string& key) {
  Host h(Host::setup_of("", server_keys, std::move(args)));
  Refusal r;
  r.status = h.proc().wait(20s);
  r.log = h.proc().log();
  std::string text = dfd::test::read_file(h.config());
  int line = 1;
  for (std::size_t at = 0; at < text.size(); ++line) {
    if (text.compare(at, key.size() + 3, key + " = ") == 0) break;
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  r.where = h.config() + ":" + std::to_string(line) + ": [server] key '" + key + "'";
  return r;
}

TEST_F(HostTls, KeyReadableByOthersIsRefusedWithFileLineKey) {
  TempDir d;
  std::string key = d.file("open.key");
  dfd::test::write_file(key, dfd::test::read_file(pki("server.key")));
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  std::string keys = "tls_cert = \"" + pki("server.pem") + "\"\ntls_key = \"" + key + "\"\n";
  for (auto args : {std::vector<std::string>{"--check"}, std::vector<std::string>{}}) {
    Refusal r = refused_start(keys, args, "tls_key");
    EXPECT_EQ(r.status, 2) << r.log;
    EXPECT_THAT(r.log,
                HasSubstr(r.where + ": '" + key + "' is accessible by group or others (mode 0644)"))
        << r.log;
    EXPECT_THAT(r.log, HasSubstr("chmod 600"));
    EXPECT_THAT(r.log, Not(HasSubstr("PRIVATE KEY"))) << "key material in a message";
  }
  // 0600 is accepted.
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  Refusal ok = refused_start(keys, {"--check"}, "tls_key");
  EXPECT_EQ(ok.status, 0) << ok.log;
}

TEST_F(HostTls, MismatchedCertificateAndKeyAreRefusedAtConfigTime) {
  for (auto args : {std::vector<std::string>{"--check"}, std::vector<std::string>{}}) {
    Refusal r = refused_start(tls_keys("server.pem", "other.key"), args, "tls_key");
    EXPECT_EQ(r.status, 2) << r.log;
    EXPECT_THAT(r.log,
                HasSubstr(r.where + ": '" + pki("other.key") + "' does not match the certificate"))
        << r.log;
  }
}

TEST_F(HostTls, BadCertificateFileAndMissingKeyAreConfigErrors) {
  TempDir d;
  dfd::test::write_file(d.file("junk.pem"), "not a certificate\n");
  Refusal r = refused_start(
      "tls_cert = \"" + d.file("junk.pem") + "\"\ntls_key = \"" + pki("server.key") + "\"\n",
      {"--check"}, "tls_cert");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.log, HasSubstr(r.where + ": '" + d.file("junk.pem") +
                               "' is not a readable PEM certificate"));
  r = refused_start("tls_cert = \"" + pki("server.pem") + "\"\n", {"--check"}, "tls_cert");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.log, HasSubstr(r.where + ": needs tls_key"));
}

TEST_F(HostTls, RelativePathsResolveAgainstTheConfigFile) {
  // The launcher runs as: sh -c SCRIPT dfd-host --config FILE; the files go next to FILE and the
  // host starts in / (so a path relative to the working directory would not be found).
  HostSetup s = https_setup("tls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\n");
  s.launcher = {"/bin/sh", "-c",
                "d=$(dirname \"$2\"); mkdir -p \"$d/tls\" && cp -p " + pki("server.pem") + " " +
                    pki("server.key") + " \"$d/tls/\" && cd / && exec \"$0\" \"$@\""};
  Host h(s);
  ASSERT_TRUE(h.ready()) << h.proc().log();
  EXPECT_EQ(http("GET", h.url("/healthz")).status, 200);
}

// Pistache's own TLS (Endpoint::useSSL) runs a blocking SSL_accept on its only accept thread: one
// silent client stopped every later connection. Here 200 clients that send nothing or half a
// ClientHello (a record header announcing 512 bytes, then 60 of them) stay connected while a
// normal https client asks /healthz 20 times; then the handshake timeout (header_timeout_ms)
// closes the stalled ones.
TEST_F(HostTls, HandshakeFloodAndSilentClientsDoNotKeepOthersOut) {
  Host h(https_setup(tls_keys() + "header_timeout_ms = 3000\n"));
  ASSERT_TRUE(h.ready()) << h.proc().log();
  std::string partial_hello = std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  partial_hello.append(49, '\x2a');
  std::vector<int> flood;
  for (int i = 0; i < 200; ++i) {
    int fd = connect_from(h.port(), "127.0.0.2");
    ASSERT_GE(fd, 0) << "connection " << i;
    if (i % 2 == 1) {
      ASSERT_EQ(::send(fd, partial_hello.data(), partial_hello.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(partial_hello.size()));
    }
    flood.push_back(fd);
  }
  int ok = 0;
  int failed = 0;
  for (int i = 0; i < 20 && failed < 3; ++i) {  // three failures are enough to know
    if (http("GET", h.url("/healthz"), {}, "", 5000).status == 200) {
      ++ok;
    } else {
      ++failed;
    }
  }
  EXPECT_EQ(ok, 20) << "https /healthz answered only " << ok << " of 20 times during the flood";

  // The stalled handshakes are cut off by the server (EOF or reset), well within 20 s.
  int closed = 0;
  auto end = std::chrono::steady_clock::now() + 20s;
  std::vector<bool> done(flood.size(), false);
  while (closed < static_cast<int>(flood.size()) && std::chrono::steady_clock::now() < end) {
    for (std::size_t i = 0; i < flood.size(); ++i) {
      if (done[i]) continue;
      pollfd p{flood[i], POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) continue;
      char buf[512];
      if (::recv(flood[i], buf, sizeof buf, MSG_DONTWAIT) <= 0) {
        done[i] = true;
        ++closed;
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  for (int fd : flood) ::close(fd);
  EXPECT_EQ(closed, 200) << "stalled handshakes left open by the server";
  EXPECT_EQ(http("GET", h.url("/healthz")).status, 200);
}

// The request limits hold on the decrypted stream, and a refusal is written inside the TLS
// session (SSL_write; a plain send() into the socket would break the session and the client
// would see no answer).
TEST_F(HostTls, OversizedBodyIsRefusedWithJson413InsideTheTlsSession) {
  Host h(https_setup(tls_keys()));
  ASSERT_TRUE(h.ready()) << h.proc().log();
  dfd::test::TlsClientOptions o;
  o.ca_file = pki("ca.pem");
  dfd::test::TlsClient c(h.port(), o);
  ASSERT_TRUE(c.connected()) << c.error();
  ASSERT_TRUE(
      c.send_all("POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr("\"body_too_large\""));
  EXPECT_EQ(http("GET", h.url("/livez")).status, 200);
}

// The header and keep-alive timeouts also hold on TLS connections (the host's own transport
// for them, control_transport.hpp): a request head that never ends is answered 408 and closed;
// an idle kept-alive connection is closed.
TEST_F(HostTls, SlowHeadsAndIdleConnectionsAreCutOffOverTls) {
  Host h(https_setup(tls_keys() + "header_timeout_ms = 1000\nkeepalive_timeout_ms = 1500\n"));
  ASSERT_TRUE(h.ready()) << h.proc().log();
  dfd::test::TlsClientOptions o;
  o.ca_file = pki("ca.pem");

  dfd::test::TlsClient slow(h.port(), o);
  ASSERT_TRUE(slow.connected()) << slow.error();
  ASSERT_TRUE(slow.send_all("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n"));  // never ends
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(slow.read_response().status, 408);
  char c;
  EXPECT_EQ(slow.read_some(&c, 1), 0u) << "still open after the 408";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);  // the client's own limit is 30 s

  dfd::test::TlsClient idle(h.port(), o);
  ASSERT_TRUE(idle.connected()) << idle.error();
  ASSERT_TRUE(idle.send_all("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto r = idle.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"status\":\"alive\"}");
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(idle.read_some(&c, 1), 0u);  // closed by the keep-alive timeout
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  EXPECT_EQ(http("GET", h.url("/livez")).status, 200);
}

}  // namespace
