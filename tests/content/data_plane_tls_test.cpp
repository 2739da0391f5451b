// Issue 12: TLS on the data plane, in process over real loopback sockets, with certificates from
// scripts/pki and an OpenSSL client (tls_client.hpp). Every property here fails without the
// feature: a plain data plane answers the plain-text request and has no handshake to resume or
// to flood; a blocking or spinning handshake would stall the single loop or burn CPU.
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "data_plane_fixture.hpp"
#include "tls_client.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

// One private CA and server certificate for the whole binary.
const std::string& pki_dir() {
  static TempDir* dir = [] {
    auto* d = new TempDir();
    auto r = run({source_dir() + "/scripts/pki", d->path(), "server"});
    EXPECT_EQ(r.status, 0) << r.output;
    return d;
  }();
  return dir->path();
}

// Splits a multipart/byteranges body into (Content-Range, data) parts.
std::vector<std::pair<std::string, std::string>> parts_of(const RawResponse& r) {
  std::vector<std::pair<std::string, std::string>> parts;
  auto ct = r.headers.find("content-type");
  if (ct == r.headers.end()) return parts;
  std::string delim = "--" + ct->second.substr(ct->second.find('=') + 1);
  std::size_t pos = r.body.find(delim);
  while (pos != std::string::npos) {
    pos += delim.size();
    if (r.body.compare(pos, 2, "--") == 0) break;
    std::size_t hend = r.body.find("\r\n\r\n", pos);
    std::size_t next = r.body.find("\r\n" + delim, hend + 4);
    if (hend == std::string::npos || next == std::string::npos) break;
    std::string heads = r.body.substr(pos + 2, hend - pos - 2);
    auto cr = heads.find("Content-Range: ");
    std::string range = heads.substr(cr + 15, heads.find("\r\n", cr) - cr - 15);
    parts.push_back({range, r.body.substr(hend + 4, next - hend - 4)});
    pos = next + 2;
  }
  return parts;
}

class TlsDataPlaneTest : public DataPlaneTest {
 protected:
  void start_tls(host::DataPlaneOptions o = {}) {
    o.tls_cert = pki_dir() + "/server.pem";
    o.tls_key = pki_dir() + "/server.key";
    start(o);
  }
  // A file of `size` pattern bytes served as big.bin, and a token for it.
  void add_big_file(std::size_t size, std::string* data, std::string* uid, std::string* token) {
    *data = pattern(size, 11);
    write_file(dir_.file("big.bin"), *data);
    *uid = sha256_hex(*data);
    source_.add(*uid, dir_.file("big.bin"), "big.bin", size);
    *token = auth_.grant(*uid);
  }
  TlsClientOptions client_options() {
    TlsClientOptions o;
    o.ca_file = pki_dir() + "/ca.pem";
    return o;
  }
  // GET (or HEAD) over a fresh TLS connection.
  RawResponse fetch(const std::string& uid, const std::vector<std::string>& headers,
                    bool head = false) {
    TlsClient c(plane_->port(), client_options());
    EXPECT_TRUE(c.connected()) << c.error();
    std::string req = request(uid, headers);
    if (head) req.replace(0, 3, "HEAD");
    c.send_all(req);
    return c.read_response(head);
  }
};

TEST_F(TlsDataPlaneTest, RangesMultipartAndHeadAreByteIdentical) {
  start_tls();
  // The same file once with a descriptor and once through read_at() only.
  std::string plain_uid = sha256_hex("read_at " + content_);
  source_.add(plain_uid, dir_.file("movie.bin"), "movie-copy.bin", content_.size(), false);
  std::string plain_token = auth_.grant(plain_uid);
  const std::size_t n = content_.size();
  for (const auto& [uid, token] : {std::pair{uid_, token_}, std::pair{plain_uid, plain_token}}) {
    auto r = fetch(uid, {bearer(token)});
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == content_) << "full body differs";

    r = fetch(uid, {bearer(token), "Range: bytes=1000-300999"});
    ASSERT_EQ(r.status, 206);
    EXPECT_EQ(r.headers["content-range"], "bytes 1000-300999/" + std::to_string(n));
    EXPECT_TRUE(r.body == content_.substr(1000, 300000));

    r = fetch(uid, {bearer(token), "Range: bytes=-1"});
    ASSERT_EQ(r.status, 206);
    EXPECT_EQ(r.body, content_.substr(n - 1));

    // Ten ranges spread over the file (part heads packed between ranges in the staging buffer,
    // ranges crossing its boundary).
    std::string spec = "Range: bytes=";
    for (int i = 0; i < 10; ++i) {
      std::size_t a = static_cast<std::size_t>(i) * 100000 + 7;
      spec += (i ? "," : "") + std::to_string(a) + "-" + std::to_string(a + 70000 + i);
    }
    r = fetch(uid, {bearer(token), spec});
    ASSERT_EQ(r.status, 206);
    auto parts = parts_of(r);
    ASSERT_EQ(parts.size(), 10u);
    for (int i = 0; i < 10; ++i) {
      std::size_t a = static_cast<std::size_t>(i) * 100000 + 7;
      EXPECT_EQ(parts[i].first, "bytes " + std::to_string(a) + "-" + std::to_string(a + 70000 + i) +
                                    "/" + std::to_string(n));
      EXPECT_TRUE(parts[i].second == content_.substr(a, 70001 + i)) << "part " << i;
    }
    EXPECT_EQ(r.headers["content-length"], std::to_string(r.body.size()));

    r = fetch(uid, {bearer(token), "Range: bytes=10-19"}, /*head=*/true);
    ASSERT_EQ(r.status, 206);
    EXPECT_EQ(r.headers["content-length"], "10");
    EXPECT_TRUE(r.body.empty());

    r = fetch(uid, {bearer(token), "Range: bytes=" + std::to_string(n) + "-"});
    EXPECT_EQ(r.status, 416);
  }
  // Keep-alive and pipelining over one TLS connection.
  TlsClient c(plane_->port(), client_options());
  ASSERT_TRUE(c.connected()) << c.error();
  c.send_all(request(uid_, {bearer(token_), "Range: bytes=0-99"}) +
             request(uid_, {bearer(token_), "Range: bytes=100-199"}));
  auto a = c.read_response();
  auto b = c.read_response();
  EXPECT_EQ(a.body, content_.substr(0, 100));
  EXPECT_EQ(b.body, content_.substr(100, 100));
  // No token over TLS is still the JSON 401.
  auto e = fetch(uid_, {});
  EXPECT_EQ(e.status, 401);
  EXPECT_NE(e.body.find("\"unauthenticated\""), std::string::npos);
}

TEST_F(TlsDataPlaneTest, PlainHttpToTheTlsPortIsClosedCleanly) {
  start_tls();
  bool closed = false;
  RawResponse r = exchange(request(uid_, {bearer(token_)}), &closed);
  EXPECT_FALSE(r.ok) << "a plain-text request was answered in plain text";
  EXPECT_TRUE(closed) << "the connection was left open";
  // The server is unharmed and serves TLS.
  auto ok = fetch(uid_, {bearer(token_), "Range: bytes=0-0"});
  EXPECT_EQ(ok.status, 206);
}

TEST_F(TlsDataPlaneTest, AlpnSelectsHttp11) {
  start_tls();
  auto o = client_options();
  o.alpn = {"h2", "http/1.1"};
  TlsClient c(plane_->port(), o);
  ASSERT_TRUE(c.connected()) << c.error();
  EXPECT_EQ(c.alpn(), "http/1.1");
  // A client that offers only h2 gets no ALPN answer (it must not assume h2) and HTTP/1.1.
  o.alpn = {"h2"};
  TlsClient h2(plane_->port(), o);
  ASSERT_TRUE(h2.connected()) << h2.error();
  EXPECT_EQ(h2.alpn(), "");
  h2.send_all(request(uid_, {bearer(token_), "Range: bytes=0-1"}));
  EXPECT_EQ(h2.read_response().body, content_.substr(0, 2));
  // No ALPN at all (aria2c, older clients): served.
  o.alpn = {};
  TlsClient none(plane_->port(), o);
  EXPECT_TRUE(none.connected()) << none.error();
}

TEST_F(TlsDataPlaneTest, SessionsResumeWithTls13AndTls12) {
  start_tls();
  for (int version : {0, TLS1_2_VERSION}) {
    auto o = client_options();
    o.max_version = version;
    SessionPtr session;
    {
      TlsClient first(plane_->port(), o);
      ASSERT_TRUE(first.connected()) << first.error();
      EXPECT_FALSE(first.reused());
      first.send_all(request(uid_, {bearer(token_), "Range: bytes=0-9"}));
      EXPECT_EQ(first.read_response().status, 206);
      session = first.session();
    }
    ASSERT_TRUE(session);
    EXPECT_TRUE(SSL_SESSION_has_ticket(session.get()));  // stateless tickets, no server cache
    o.resume = session;
    TlsClient second(plane_->port(), o);
    ASSERT_TRUE(second.connected()) << second.error();
    EXPECT_TRUE(second.reused()) << "TLS version cap " << version << ": full handshake again";
    second.send_all(request(uid_, {bearer(token_), "Range: bytes=10-19"}));
    EXPECT_EQ(second.read_response().body, content_.substr(10, 10));
  }
}

TEST_F(TlsDataPlaneTest, AStalledHandshakeIsClosedAtTheHeaderTimeout) {
  host::DataPlaneOptions o;
  o.header_timeout_s = 1;
  start_tls(o);
  RawClient half(plane_->port());
  // A TLS record header announcing a 512-byte ClientHello, and only its first bytes.
  half.send_all(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) +
                std::string(40, '\x11'));
  RawClient silent(plane_->port());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(half.closed_by_peer(8000));
  EXPECT_TRUE(silent.closed_by_peer(8000));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
}

// Issue 12, "Done when" 1: a handshake flood and a slow TLS reader do not stop a normal client.
// One loop thread serves all of them: a handshake or a slow reader that blocked or spun would
// stall or starve the download.
TEST_F(TlsDataPlaneTest, HandshakeFloodAndSlowReaderDoNotStopAnotherClient) {
  const std::size_t big = 64u << 20;
  std::string data, uid, token;
  add_big_file(big, &data, &uid, &token);
  host::DataPlaneOptions o;
  o.threads = 1;
  o.header_timeout_s = 60;
  start_tls(o);

  // 300 connections: half send nothing, half send half a ClientHello.
  std::vector<std::unique_ptr<RawClient>> flood;
  for (int i = 0; i < 300; ++i) {
    flood.push_back(std::make_unique<RawClient>(plane_->port()));
    if (i % 2 == 1) {
      flood.back()->send_all(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) +
                             std::string(60, '\x22'));
    }
  }
  // A slow reader: asks for the whole 64 MiB and reads 1 byte per second.
  auto so = client_options();
  so.rcvbuf = 4096;
  auto slow = std::make_unique<TlsClient>(plane_->port(), so);
  ASSERT_TRUE(slow->connected()) << slow->error();
  slow->send_all(request(uid, {bearer(token)}));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    char b;
    while (!stop.load() && slow->read_some(&b, 1) == 1) std::this_thread::sleep_for(1s);
  });

  // A normal client: a 64 MiB range, well before a generous deadline.
  auto t0 = std::chrono::steady_clock::now();
  RawResponse r = fetch(uid, {bearer(token), "Range: bytes=0-" + std::to_string(big - 1)});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 206);
  EXPECT_TRUE(r.body == data) << "64 MiB range differs";
  EXPECT_LT(took, 60s) << "the download was held up";

  // The flood and the stalled reader cost no CPU while they wait (nothing spins).
  double cpu0 = cpu_seconds();
  std::this_thread::sleep_for(2s);
  double cpu = cpu_seconds() - cpu0;
  EXPECT_LT(cpu, 0.4) << "CPU seconds over 2 s with 300 stalled handshakes and a slow reader";
  EXPECT_GE(plane_->active_connections(), 301);
  stop.store(true);
  ::shutdown(slow->fd(), SHUT_RDWR);
  trickle.join();
}

TEST_F(TlsDataPlaneTest, PeersClosingMidBodyLeakNoDescriptor) {
  std::string data, uid, token;
  add_big_file(16u << 20, &data, &uid, &token);
  host::DataPlaneOptions o1;
  o1.threads = 1;  // one open-file cache
  start_tls(o1);
  // Warm up the open-file cache (it keeps one descriptor per file on purpose).
  EXPECT_EQ(fetch(uid, {bearer(token), "Range: bytes=0-0"}).status, 206);
  int before = count_fds();
  for (int i = 0; i < 20; ++i) {
    auto o = client_options();
    o.rcvbuf = 8192;
    TlsClient c(plane_->port(), o);
    ASSERT_TRUE(c.connected()) << c.error();
    c.send_all(request(uid, {bearer(token)}));
    char b[4096];
    EXPECT_GT(c.read_some(b, sizeof b), 0u);
    if (i % 2 == 0) {  // a reset instead of a close
      linger l{1, 0};
      ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
  }
  for (int i = 0; i < 100 && plane_->active_connections() > 0; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(plane_->active_connections(), 0);
  EXPECT_EQ(count_fds(), before);
}

}  // namespace
}  // namespace dfd::test
