// Issue 12, "Done when" 1 for the data plane: a real dfd-host file server with TLS (certificates
// from scripts/pki); curl --cacert and aria2c --ca-certificate download ranges byte-identical
// over https; plain http to the TLS port is refused cleanly; without the CA the client refuses
// the server; the process counts which TLS path ran and keeps no descriptor of aborted clients.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

#include "file_server_process.hpp"
#include "tls_client.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

int process_fds(pid_t pid) {
  int n = 0;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return -1;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

class TlsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = run({source_dir() + "/scripts/pki", pki_.path(), "server"});
    ASSERT_EQ(r.status, 0) << r.output;
    // A 5 MiB file besides the fixture's, so that aria2c splits it into ranges.
    big_ = std::string(5u << 20, '\0');
    for (std::size_t i = 0; i < big_.size(); ++i)
      big_[i] = static_cast<char>((i * 131) ^ (i >> 11));
    write_file(fs_.dir_.file("root/big.bin"), big_);
    run({"touch", "-d", "-1 minute", fs_.dir_.file("root/big.bin")});
    big_uid_ = sha256_hex(big_);
    ASSERT_TRUE(fs_.start("tls_cert = \"" + pki_.file("server.pem") + "\"\ntls_key = \"" +
                          pki_.file("server.key") + "\"\n"))
        << fs_.host_->log();
    https_ = "https://127.0.0.1:" + std::to_string(fs_.data_port_) + "/v1/content/";
  }
  // curl over https with the CA; returns the body (or "" on failure; `*status` = curl's exit).
  std::string curl(const std::vector<std::string>& extra, const std::string& url,
                   int* status = nullptr) {
    std::string out = fs_.dir_.file("curl.out");
    std::vector<std::string> argv = {"curl", "-sS", "--fail", "-o", out, "--max-time", "60"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    auto r = run(argv);
    if (status) *status = r.status;
    EXPECT_TRUE(status || r.status == 0) << r.output;
    return r.status == 0 ? read_file(out) : std::string();
  }

  TempDir pki_;
  FileServerProcess fs_;
  std::string big_, big_uid_, https_;
};

TEST_F(TlsProcessTest, CurlAndAria2DownloadRangesByteIdenticalOverHttps) {
  std::string t = fs_.token(fs_.uid_);
  std::string ca = pki_.file("ca.pem");
  std::string body =
      curl({"--cacert", ca, "-H", fs_.auth(t), "-r", "1000-150999"}, https_ + fs_.uid_);
  EXPECT_TRUE(body == fs_.content_.substr(1000, 150000)) << body.size();
  body = curl({"--cacert", ca, "-H", fs_.auth(t)}, https_ + fs_.uid_);
  EXPECT_TRUE(body == fs_.content_);
  // Several ranges: multipart/byteranges over TLS, checked part by part.
  auto mp =
      curl({"--cacert", ca, "-H", fs_.auth(t), "-r", "0-9,100000-100099,-5"}, https_ + fs_.uid_);
  EXPECT_NE(mp.find(fs_.content_.substr(0, 10)), std::string::npos);
  EXPECT_NE(mp.find(fs_.content_.substr(100000, 100)), std::string::npos);
  EXPECT_NE(mp.find("Content-Range: bytes 199995-199999/200000"), std::string::npos);

  // aria2c: three connections, 1 MiB pieces (ranged requests) over https.
  std::string bt = fs_.token(big_uid_);
  std::string dir = fs_.dir_.file("aria");
  auto r = run({"aria2c", "-q", "--ca-certificate=" + ca, "--header", fs_.auth(bt), "-x3", "-s3",
                "-k1M", "--allow-overwrite=true", "--file-allocation=none", "-d", dir, "-o",
                "big.bin", https_ + big_uid_});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(read_file(dir + "/big.bin") == big_) << "aria2c's file differs";

  // Without the CA the clients refuse the server (certificate error, exit 60 for curl).
  int status = 0;
  curl({"-H", fs_.auth(t), "-r", "0-9"}, https_ + fs_.uid_, &status);
  EXPECT_EQ(status, 60);

  // The advertised URL is https:// and the log says which TLS path ran (user space here).
  std::string log = fs_.host_->log();
  EXPECT_NE(log.find("(https://127.0.0.1:" + std::to_string(fs_.data_port_)), std::string::npos)
      << log;
  EXPECT_NE(log.find("data plane: TLS only"), std::string::npos) << log;
  auto m = http("GET", fs_.ctl_ + "/metrics");
  EXPECT_NE(m.body.find("dfd_content_tls_connections_total{path=\"userspace\"}"),
            std::string::npos);
}

TEST_F(TlsProcessTest, PlainHttpIsRefusedAndAbortedTlsClientsLeaveNoDescriptor) {
  // Plain http to the TLS port: no answer in plain text, the connection closed; still serving.
  RawClient plain(fs_.data_port_);
  plain.send_all("GET /v1/content/" + fs_.uid_ + " HTTP/1.1\r\nHost: x\r\n\r\n");
  RawResponse pr = plain.read_response(false, 3000);
  EXPECT_FALSE(pr.ok);
  EXPECT_TRUE(plain.closed_by_peer(3000));
  int status = 0;
  curl({"-H", fs_.auth(fs_.token(fs_.uid_))},
       "http://127.0.0.1:" + std::to_string(fs_.data_port_) + "/v1/content/" + fs_.uid_, &status);
  EXPECT_NE(status, 0);
  EXPECT_TRUE(fs_.host_->running());

  // Clients that go away mid-body (half of them with a reset) leave no descriptor behind.
  std::string bt = fs_.token(big_uid_);
  TlsClientOptions o;
  o.ca_file = pki_.file("ca.pem");
  {
    TlsClient warm(fs_.data_port_, o);  // opens the file in the loop's cache
    warm.send_all("GET /v1/content/" + big_uid_ + " HTTP/1.1\r\nHost: x\r\n" + fs_.auth(bt) +
                  "\r\nRange: bytes=0-0\r\n\r\n");
    EXPECT_EQ(warm.read_response().status, 206);
    TlsClient warm2(fs_.data_port_, o);  // the other loop
    warm2.send_all("GET /v1/content/" + big_uid_ + " HTTP/1.1\r\nHost: x\r\n" + fs_.auth(bt) +
                   "\r\nRange: bytes=0-0\r\n\r\n");
    EXPECT_EQ(warm2.read_response().status, 206);
  }
  std::this_thread::sleep_for(300ms);
  int before = process_fds(fs_.host_->pid());
  for (int i = 0; i < 20; ++i) {
    o.rcvbuf = 8192;
    TlsClient c(fs_.data_port_, o);
    ASSERT_TRUE(c.connected()) << c.error();
    c.send_all("GET /v1/content/" + big_uid_ + " HTTP/1.1\r\nHost: x\r\n" + fs_.auth(bt) +
               "\r\n\r\n");
    char b[4096];
    EXPECT_GT(c.read_some(b, sizeof b), 0u);
    if (i % 2 == 0) {
      linger l{1, 0};
      ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
  }
  int after = -1;
  for (int i = 0; i < 100; ++i) {
    after = process_fds(fs_.host_->pid());
    if (after <= before) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace dfd::test
