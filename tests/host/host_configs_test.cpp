// Tests that need the real plugins of the build: `dfd-host --check` must accept every shipped
// config (configs/*.toml, paths pointed at a temporary directory through the ${DFD_...} variables
// the configs use), and the host wires the file-server role ([content]) to its plugins.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "harness.hpp"

namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<std::string> shipped_configs() {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dfd::test::source_dir() + "/configs", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".toml") out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ShippedConfigs, EveryConfigPassesCheck) {
  auto configs = shipped_configs();
  if (configs.empty()) GTEST_SKIP() << "configs/ has no *.toml yet";
  for (const auto& cfg : configs) {
    SCOPED_TRACE(cfg);
    dfd::test::TempDir dir;
    fs::create_directories(dir.file("files"));
    // The configs' [events] keys: DFD_EVENTS_DIR/<server id>.key and the trust folders.
    for (auto [role, id] : {std::pair{"info", "info"}, std::pair{"fileserver", "fs-a"},
                            std::pair{"fileserver", "fs-b"}, std::pair{"fileserver", "fs-c"}}) {
      auto k = dfd::test::event_keys(dir.file("keys"), role, id);
      ASSERT_EQ(k.status, 0) << k.output;
    }
    // The TLS configs' files: certificate and key, the broker's CA and a password file.
    ASSERT_TRUE(dfd::test::make_pki(dir.file("pki"), {"server"}));
    dfd::test::write_file(dir.file("amqp-password"), "check-only");
    ::chmod(dir.file("amqp-password").c_str(), 0600);
    dfd::test::write_file(dir.file("pg-password"), "check-only");  // info-postgres.toml
    ::chmod(dir.file("pg-password").c_str(), 0600);
    std::map<std::string, std::string> env{
        {"DFD_TLS_CERT", dir.file("pki/server.pem")},
        {"DFD_TLS_KEY", dir.file("pki/server.key")},
        {"DFD_AMQP_CA_FILE", dir.file("pki/ca.pem")},
        {"DFD_AMQP_PASSWORD_FILE", dir.file("amqp-password")},
        {"DFD_PG_PASSWORD_FILE", dir.file("pg-password")},
        {"DFD_EVENTS_DIR", dir.file("keys")},
        {"DFD_STATE_DIR", dir.file("state")},
        {"DFD_STORAGE_ROOT", dir.file("files")},
        {"DFD_CONTROL_LISTEN", "127.0.0.1:" + std::to_string(dfd::test::free_port())},
        {"DFD_CONTENT_LISTEN", "127.0.0.1:" + std::to_string(dfd::test::free_port())},
        {"DFD_LOG_LEVEL", "warn"},
        {"DFD_ADMIN_PASSWORD", "check-only-password-1234"},
        {"TMPDIR", dir.path()}};
    auto r = dfd::test::run({dfd::test::bin("dfd-host"), "--config", cfg, "--check"}, "", env);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("config OK"));
  }
}

}  // namespace

namespace {

// The file-server role wired by the host: digest-openssl + storage-fs + auth-sqlite + [content].
std::string file_server_config(const dfd::test::TempDir& dir, int control_port, int content_port) {
  fs::create_directories(dir.file("files"));
  dfd::test::write_file(dir.file("files/hello.txt"), "hello, dfd\n");
  return "[server]\nid = \"fs-it\"\nzone = \"zone-t\"\nlisten = \"127.0.0.1:" +
         std::to_string(control_port) + "\"\nstate_dir = \"" + dir.file("state") +
         "\"\nshutdown_grace_ms = 2000\n\n[content]\nlisten = \"127.0.0.1:" +
         std::to_string(content_port) +
         "\"\n\n[[plugin]]\nname = \"digest-openssl\"\n\n[[plugin]]\nname = \"storage-fs\"\n"
         "root = \"" +
         dir.file("files") +
         "\"\nsettle_ms = 0\n\n[[plugin]]\nname = "
         "\"auth-sqlite\"\ndb = \"" +
         dir.file("state/tokens.db") + "\"\n";
}

TEST(FileServerRole, StartsReportsContentHealthRescansOnSighupAndStops) {
  dfd::test::TempDir dir;
  int control = dfd::test::free_port(), content = dfd::test::free_port();
  dfd::test::write_file(dir.file("fs.toml"), file_server_config(dir, control, content));
  dfd::test::Process p({dfd::test::bin("dfd-host"), "--config", dir.file("fs.toml")});
  std::string base = "http://127.0.0.1:" + std::to_string(control);
  ASSERT_TRUE(dfd::test::wait_http(base + "/healthz", 200, std::chrono::seconds(20))) << p.log();
  auto r = dfd::test::http("GET", base + "/healthz");
  EXPECT_THAT(r.body, HasSubstr("\"content\":{"));
  EXPECT_THAT(r.body, HasSubstr("\"name\":\"storage-fs\""));
  p.signal(SIGHUP);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (p.log().find("SIGHUP: rescanning") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(p.log(), HasSubstr("SIGHUP: rescanning"));
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(std::chrono::seconds(20)), 0) << p.log();
}

TEST(FileServerRole, ContentStartFailureIsFatal) {
  dfd::test::TempDir dir;
  // Occupy the data-plane port.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  dfd::test::write_file(dir.file("fs.toml"),
                        file_server_config(dir, dfd::test::free_port(), ntohs(a.sin_port)));
  auto r = dfd::test::run({dfd::test::bin("dfd-host"), "--config", dir.file("fs.toml")});
  ::close(fd);
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("[content] cannot start: "));
}

}  // namespace
