// tests/storage_http: a real nginx origin (nginx_origin.sh) and a storage-http plugin over it,
// loaded from build/plugins with a FakeHost whose digest plugin is the real digest-openssl.
// The origin's index is written by the real tool (`dfd-host index`).
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "dfd/dfd.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace dfd::test {

inline std::string origin_script() {
  return source_dir() + "/tests/storage_http/nginx_origin.sh";
}

// nginx serving dir()/www on 127.0.0.1:port(); stopped (by its PID) by the destructor, or by a
// watchdog if this process dies first.
class NginxOrigin {
 public:
  NginxOrigin() : port_(free_port()) {
    ::chmod(dir_.path().c_str(), 0755);
    watchdog_ = start_watchdog(origin_script() + " stop " + dir_.path());
    start();
  }
  ~NginxOrigin() {
    stop();
    stop_watchdog(watchdog_);
  }
  NginxOrigin(const NginxOrigin&) = delete;
  NginxOrigin& operator=(const NginxOrigin&) = delete;

  void start() {
    std::string cmd = origin_script() + " start " + dir_.path() + " " + std::to_string(port_);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  void stop() {
    std::string cmd = origin_script() + " stop " + dir_.path();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string www() const { return dir_.file("www"); }
  std::string url(const std::string& sub = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + sub;
  }
  // Requests whose access-log line contains `needle` (e.g. " 206 GET /set/a.bin").
  // Access-log lines containing `needle`. nginx logs a request after its response has gone out,
  // so a caller that expects at least `at_least` lines waits for them (at most 5 s) first.
  int requests(const std::string& needle, int at_least = 0) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      std::ifstream in(dir_.file("access.log"));
      std::string line;
      int n = 0;
      while (std::getline(in, line)) {
        if (line.find(needle) != std::string::npos) ++n;
      }
      if (n >= at_least || std::chrono::steady_clock::now() >= deadline) return n;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  TempDir dir_;
  int port_;
  pid_t watchdog_ = -1;
};

// `dfd-host index --root DIR --output DIR/index.json --chunk-size N`.
inline void write_origin_index(const std::string& dir, std::uint64_t chunk_size) {
  std::string cmd = bin("dfd-host") + " index --root '" + dir + "' --output '" + dir +
                    "/index.json' --chunk-size " + std::to_string(chunk_size) + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// A storage-http instance (started) and the digest plugin it finds.
struct HttpUnderTest {
  std::unique_ptr<FakeHost> digest_host;
  LoadedPlugin digest;
  std::unique_ptr<FakeHost> host;
  LoadedPlugin plugin;
  Status start_status;  // when loading failed at start()

  Storage* storage() const { return plugin.as<Storage>(); }
};

// Loads digest-openssl and storage-http with `config` (origin, cache_dir, ...).
inline std::shared_ptr<HttpUnderTest> load_storage_http(std::map<std::string, ConfigValue> config) {
  auto u = std::make_shared<HttpUnderTest>();
  u->digest_host =
      std::make_unique<FakeHost>(std::map<std::string, ConfigValue>{}, "digest-openssl");
  auto d = load_plugin("digest-openssl", *u->digest_host);
  if (!d.ok()) {
    ADD_FAILURE() << "load digest-openssl: " << d.status().to_string();
    return u;
  }
  u->digest = std::move(d.value());
  u->host = std::make_unique<FakeHost>(std::move(config), "storage-http");
  u->host->add_plugin(PluginKind::kDigest, "digest-openssl", u->digest.get());
  auto p = load_plugin("storage-http", *u->host);
  if (!p.ok()) {
    u->start_status = p.status();
    return u;
  }
  u->plugin = std::move(p.value());
  return u;
}

}  // namespace dfd::test
