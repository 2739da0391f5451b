// The file server as a real process: build/bin/dfd-host with storage-fs, digest-openssl and
// auth-hmac (tokens made in-process by the same plugin over the same key file), probed with curl
// over loopback: the "Done when" 1 and 2, SIGHUP rescans, /metrics and /healthz.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "file_server_process.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

class HostProcessTest : public ::testing::Test, public FileServerProcess {
 protected:
  void SetUp() override {
    ASSERT_EQ(::symlink("/etc/hostname", dir_.file("root/escape").c_str()), 0);
    ASSERT_TRUE(start()) << host_->log();
  }
  void TearDown() override { EXPECT_EQ(stop(), 0) << host_->log(); }
};

TEST_F(HostProcessTest, DoneWhenOneAndTwo) {
  std::string t = token(uid_);
  std::string n = std::to_string(content_.size());
  auto r = http("GET", data_ + uid_, {auth(t), "Range: bytes=0-0"});
  ASSERT_EQ(r.status, 206) << r.body << host_->log();
  EXPECT_EQ(r.body, content_.substr(0, 1));
  r = http("GET", data_ + uid_, {auth(t), "Range: bytes=-1"});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content_.substr(content_.size() - 1));
  r = http("GET", data_ + uid_, {auth(t), "Range: bytes=150000-"});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content_.substr(150000));
  r = http("GET", data_ + uid_, {auth(t), "Range: bytes=1000-1999"});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content_.substr(1000, 1000));
  EXPECT_EQ(r.headers["content-range"], "bytes 1000-1999/" + n);
  r = http("GET", data_ + uid_, {auth(t), "Range: bytes=" + n + "-"});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.headers["content-range"], "bytes */" + n);
  r = http("GET", data_ + uid_, {auth(t)});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, content_);
  r = http("HEAD", data_ + uid_, {auth(t)});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], n);
  r = http("GET", data_ + uid_, {auth(t), "Range: bytes=0-9", "If-Range: \"0000\""});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), content_.size());

  EXPECT_EQ(http("GET", data_ + uid_).status, 401);
  EXPECT_EQ(http("GET", data_ + uid_, {auth(token(sha256_hex("another file")))}).status, 403);
  // An expired token: issued by a clock two hours behind, valid for one hour.
  auth_host_->advance(-2h);
  std::string expired = token(uid_, 3600s);
  auth_host_->advance(2h);
  EXPECT_EQ(http("GET", data_ + uid_, {auth(expired)}).status, 403);
  std::string tampered = t;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(http("GET", data_ + uid_, {auth(tampered)}).status, 403);
  RawClient raw(data_port_);
  // A path is never a file name: 403 with another file's token (the token is checked first),
  // 404 with a token for exactly that "uid".
  raw.send_all("GET /v1/content/../../etc/passwd HTTP/1.1\r\nHost: x\r\n" + auth(t) + "\r\n\r\n");
  EXPECT_EQ(raw.read_response().status, 403);
  raw.send_all("GET /v1/content/../../etc/passwd HTTP/1.1\r\nHost: x\r\n" +
               auth(token("../../etc/passwd")) + "\r\n\r\n");
  EXPECT_EQ(raw.read_response().status, 404);
  std::string escaped = sha256_hex(read_file("/etc/hostname"));
  EXPECT_EQ(http("GET", data_ + escaped, {auth(token(escaped))}).status, 404);

  // Still healthy, and the metrics say what happened.
  EXPECT_EQ(http("GET", data_ + uid_, {auth(t), "Range: bytes=0-0"}).status, 206);
  EXPECT_EQ(http("GET", ctl_ + "/healthz").status, 200);
  std::string metrics = http("GET", ctl_ + "/metrics").body;
  EXPECT_NE(metrics.find("dfd_content_responses_total{status=\"206\"}"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("dfd_content_token_denials_total{reason=\"missing\"}"), std::string::npos);
  EXPECT_NE(metrics.find("dfd_content_bytes_sent_total"), std::string::npos);
}

TEST_F(HostProcessTest, SighupRescans) {
  std::string added = std::string(5000, 'z');
  write_file(dir_.file("root/late.bin"), added);
  run({"touch", "-d", "-1 minute", dir_.file("root/late.bin")});
  std::string uid = sha256_hex(added);
  std::string t = token(uid);
  EXPECT_EQ(http("GET", data_ + uid, {auth(t)}).status, 404);
  host_->signal(SIGHUP);
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    auto r = http("GET", data_ + uid, {auth(t)});
    served = r.status == 200 && r.body == added;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(served) << host_->log();
}

}  // namespace
}  // namespace dfd::test
