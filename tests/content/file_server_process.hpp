// A file server as a real process for the content tests: build/bin/dfd-host with storage-fs,
// digest-openssl and auth-hmac over a temporary storage root holding one 200,000-byte file;
// download tokens are made in-process by the same plugin over the same key file.
//
// FileServerProcess::start() takes extra `[content]` lines and a command prefix (for example
// {"prlimit", "--nofile=256", "--"}), so limit and load tests run the same binary as production.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "content_doubles.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace dfd::test {

class FileServerProcess {
 public:
  FileServerProcess() {
    ::mkdir(dir_.file("root").c_str(), 0755);
    ::mkdir(dir_.file("state").c_str(), 0755);
    content_ = std::string(200000, '\0');
    for (std::size_t i = 0; i < content_.size(); ++i)
      content_[i] = static_cast<char>((i * 31) ^ (i >> 8));
    write_file(dir_.file("root/data.bin"), content_);
    uid_ = sha256_hex(content_);
    // Files are older than storage-fs's settle window: served at once.
    run({"touch", "-d", "-1 minute", dir_.file("root/data.bin")});
    auth_host_ = std::make_unique<FakeHost>(
        std::map<std::string, ConfigValue>{{"key_file", dir_.file("hmac.key")},
                                           {"create_key", true}},
        "auth-hmac");
    auto p = load_plugin("auth-hmac", *auth_host_);
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    if (p.ok()) auth_ = std::move(p.value());
  }
  ~FileServerProcess() { stop(); }

  // Writes the config and starts dfd-host; true once /healthz answers.
  bool start(const std::string& content_extra = "", const std::vector<std::string>& prefix = {}) {
    data_port_ = free_port();
    ctl_port_ = free_port();
    write_file(
        dir_.file("fs.toml"),
        "[server]\nid = \"fs-proc\"\nzone = \"zone-p\"\nlisten = \"127.0.0.1:" +
            std::to_string(ctl_port_) + "\"\nstate_dir = \"" + dir_.file("state") +
            "\"\nlog_level = \"info\"\n\n[content]\nlisten = \"127.0.0.1:" +
            std::to_string(data_port_) + "\"\nthreads = 2\n" + content_extra +
            "\n[[plugin]]\nname = \"storage-fs\"\nroot = \"" + dir_.file("root") +
            "\"\n\n[[plugin]]\nname = \"digest-openssl\"\n\n[[plugin]]\nname = \"auth-hmac\"\n"
            "key_file = \"" +
            dir_.file("hmac.key") + "\"\n");
    std::vector<std::string> argv = prefix;
    for (const std::string& a : {bin("dfd-host"), std::string("--config"), dir_.file("fs.toml")})
      argv.push_back(a);
    host_ = std::make_unique<Process>(argv);
    ctl_ = "http://127.0.0.1:" + std::to_string(ctl_port_);
    data_ = "http://127.0.0.1:" + std::to_string(data_port_) + "/v1/content/";
    return wait_http(ctl_ + "/healthz", 200, std::chrono::seconds(30));
  }
  // SIGTERM and wait; the exit status (0 = clean).
  int stop() {
    if (!host_ || !host_->running()) return host_ ? host_->wait(std::chrono::seconds(1)) : 0;
    host_->signal(SIGTERM);
    return host_->wait(std::chrono::seconds(10));
  }

  std::string token(const std::string& scope,
                    std::chrono::seconds ttl = std::chrono::seconds(600)) {
    auto t = auth_.as<Auth>()->issue_download_token(scope, 1, ttl, nullptr);
    EXPECT_TRUE(t.ok());
    return t.ok() ? t->token : std::string();
  }
  static std::string auth(const std::string& t) { return "Authorization: Bearer " + t; }

  // A "Name: value" line of /proc/PID/status (VmHWM, VmRSS, Threads), or "".
  std::string proc_status(const std::string& name) const {
    return dfd::test::proc_status(host_->pid(), name);
  }

  TempDir dir_;
  std::unique_ptr<FakeHost> auth_host_;
  LoadedPlugin auth_;
  std::unique_ptr<Process> host_;
  int data_port_ = 0, ctl_port_ = 0;
  std::string ctl_, data_, content_, uid_;
};

}  // namespace dfd::test
