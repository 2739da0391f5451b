// The in-process data-plane fixture shared by the data-plane tests: a DataPlane over an
// in-memory token store (MemoryAuth) and a map of real files (MapSource), reached over real
// loopback sockets with libcurl (http()) and RawClient.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "content_doubles.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace dfd::test {

inline std::string pattern(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

inline int count_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

inline double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

class DataPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    content_ = pattern(1 << 20, 7);
    uid_ = sha256_hex(content_);
    write_file(dir_.file("movie.bin"), content_);
    source_.add(uid_, dir_.file("movie.bin"), "videos/movie.bin", content_.size());
    other_ = sha256_hex("other");
    write_file(dir_.file("other.bin"), "other");
    source_.add(other_, dir_.file("other.bin"), "other.bin", 5);
    token_ = auth_.grant(uid_);
  }
  void TearDown() override {
    if (plane_) plane_->stop(1000);
  }
  void start(host::DataPlaneOptions o = {}) {
    o.listen = "127.0.0.1:0";
    if (o.threads == 2) o.threads = 2;
    plane_ = std::make_unique<host::DataPlane>(host_.logger(), host_.metrics(), auth_, source_, o);
    ASSERT_TRUE(plane_->start().ok());
    base_ = "http://" + plane_->bound_address();
  }
  HttpReply get(const std::string& uid, std::vector<std::string> headers = {},
                const std::string& method = "GET") {
    return http(method, base_ + "/v1/content/" + uid, headers);
  }
  std::string bearer(const std::string& t) { return "Authorization: Bearer " + t; }
  // Sends `bytes` on a fresh connection and reads one response; when none came, `*closed` says
  // whether the server closed the connection (a clean close) rather than leaving it hanging.
  RawResponse exchange(const std::string& bytes, bool* closed = nullptr, int timeout_ms = 5000) {
    RawClient c(plane_->port());
    c.send_all(bytes);
    RawResponse r = c.read_response(bytes.rfind("HEAD ", 0) == 0, timeout_ms);
    if (closed) *closed = !r.ok && c.closed_by_peer(timeout_ms);
    return r;
  }
  // Waits (at most 10 s) until the plane holds no connection. A client's close reaches the
  // plane's loop asynchronously: until the loop has seen it, the server's side of the socket is
  // still open, so a descriptor count taken right after a client went away may include it.
  bool wait_no_connections() {
    for (int i = 0; i < 200 && plane_->active_connections() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return plane_->active_connections() == 0;
  }
  std::string request(const std::string& uid, const std::vector<std::string>& headers = {}) {
    std::string s = "GET /v1/content/" + uid + " HTTP/1.1\r\nHost: x\r\n";
    for (const auto& h : headers) s += h + "\r\n";
    return s + "\r\n";
  }

  TempDir dir_;
  FakeHost host_;
  MemoryAuth auth_;
  MapSource source_;
  std::unique_ptr<host::DataPlane> plane_;
  std::string base_, content_, uid_, other_, token_;
};

}  // namespace dfd::test
