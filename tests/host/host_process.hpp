// A dfd-host process for the host's integration tests: the test-only info plugin plus
// digest-openssl, on a free loopback port, with extra [server] keys and arguments as given.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace dfd::test {

inline const std::string kTestPluginDir = DFD_TEST_PLUGIN_DIR;

inline bool wait_for_log(Process& p, const std::string& text,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (p.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A blocking TCP connection to 127.0.0.1:port from `source` (another loopback address is another
// peer address to the server). -1 on failure.
inline int connect_from(int port, const char* source = "127.0.0.1", int sndbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (sndbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<std::uint16_t>(port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct HostSetup {
  std::string test_info_keys;  // lines for the test-info [[plugin]] table
  std::string server_keys;     // extra lines for [server]
  std::vector<std::string> extra_args;
  std::string listen_host = "127.0.0.1";
  std::vector<std::string> launcher;  // a command prefix, e.g. {"prlimit", "--nofile=256"}
  std::string extra_plugins;          // more [[plugin]] tables, appended
  std::map<std::string, std::string> env;
  bool https = false;  // the server_keys turn TLS on: url() says https (set_http_tls for the CA)
};

class Host {
 public:
  explicit Host(const std::string& test_info_keys = "", const std::string& server_keys = "",
                std::vector<std::string> extra_args = {})
      : Host(setup_of(test_info_keys, server_keys, std::move(extra_args))) {}
  explicit Host(const HostSetup& setup) {
    port_ = free_port();
    scheme_ = setup.https ? "https" : "http";
    config_ = dir_.file("host.toml");
    write_file(config_, "plugin_path = [\"" + kTestPluginDir +
                            "\"]\n\n[server]\nid = \"it-host\"\nzone = \"zone-t\"\n"
                            "listen = \"" +
                            setup.listen_host + ":" + std::to_string(port_) +
                            "\"\nthreads = 4\nstate_dir = \"" + dir_.file("state") +
                            "\"\nshutdown_grace_ms = 5000\n" + setup.server_keys +
                            "\n[[plugin]]\nname = \"test-info\"\n" + setup.test_info_keys +
                            "\n[[plugin]]\nname = \"digest-openssl\"\n" + setup.extra_plugins);
    std::vector<std::string> argv = setup.launcher;
    argv.insert(argv.end(), {bin("dfd-host"), "--config", config_});
    argv.insert(argv.end(), setup.extra_args.begin(), setup.extra_args.end());
    proc_ = std::make_unique<Process>(argv, setup.env);
  }
  static HostSetup setup_of(const std::string& test_info_keys, const std::string& server_keys,
                            std::vector<std::string> extra_args = {}) {
    HostSetup s;
    s.test_info_keys = test_info_keys;
    s.server_keys = server_keys;
    s.extra_args = std::move(extra_args);
    return s;
  }
  bool ready() { return wait_http(url("/healthz"), 200, std::chrono::seconds(20)); }
  std::string url(const std::string& path) const {
    return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  Process& proc() { return *proc_; }
  const std::string& config() const { return config_; }
  int port() const { return port_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string config_;
  int port_ = 0;
  std::string scheme_ = "http";
  std::unique_ptr<Process> proc_;
};

}  // namespace dfd::test
