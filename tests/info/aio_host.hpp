// A real all-in-one dfd-host process for the info API's HTTP tests: info-sqlite, auth-sqlite,
// broker-local, and the [content] role with storage-fs, on loopback ports. `info_extra` is
// appended to the info-sqlite table (e.g. "login_max_failures = 3\n"); "@DIR@" in it stands
// for the test's temporary directory.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "harness.hpp"

namespace dfd::test {

// The first admin every AioHost creates.
inline constexpr const char* kAioAdmin = "admin@example.com";
inline constexpr const char* kAioAdminPw = "admin-password-1";

// The user token of a login reply, or "".
inline std::string token_of(const HttpReply& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("token") && j["token"].is_string()
             ? j["token"].get<std::string>()
             : "";
}

// TLS for an AioHost: `dir` is a scripts/pki directory; its server.pem/server.key make the
// control plane HTTPS (set_http_tls for the harness's own calls).
struct AioTls {
  std::string dir;                   // empty: plain HTTP everywhere
  bool client_certificates = false;  // mutual TLS: clients need a certificate from dir/ca.pem
  bool data_plane = true;            // the data plane serves TLS too (false: [content] tls = false)
};

struct AioHost {
  AioHost(const std::string& content, const std::string& info_extra,
          const std::string& auth_extra = "kdf_iterations = 1000\n", const AioTls& tls = {}) {
    using namespace std::chrono_literals;
    int cp = free_port();
    int dp = free_port();
    bool on = !tls.dir.empty();
    base = (on ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(cp);
    data = (on && tls.data_plane ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(dp);
    std::string server_tls, content_tls;
    if (on) {
      server_tls =
          "tls_cert = \"" + tls.dir + "/server.pem\"\ntls_key = \"" + tls.dir + "/server.key\"\n";
      if (tls.client_certificates) server_tls += "tls_client_ca = \"" + tls.dir + "/ca.pem\"\n";
      if (!tls.data_plane) content_tls = "tls = false\n";
    }
    run({"mkdir", "-p", dir.file("files"), dir.file("state")});
    write_file(dir.file("files/hello.txt"), content);
    write_file(dir.file("admin-pw"), std::string(kAioAdminPw) + "\n");
    config = dir.file("aio.toml");
    write_file(config, R"([server]
id = "aio-1"
zone = "zone-a"
listen = "127.0.0.1:)" + std::to_string(cp) +
                           R"("
threads = 4
state_dir = ")" + dir.file("state") +
                           R"("
shutdown_grace_ms = 2000
)" + server_tls + R"(
[content]
listen = "127.0.0.1:)" + std::to_string(dp) +
                           R"("
public_url = ")" + data + "\"\n" +
                           content_tls + R"(chunk_size = 65536
heartbeat_interval_ms = 500
token_wait_ms = 2000

[[plugin]]
name = "digest-openssl"

[[plugin]]
name = "storage-fs"
root = ")" + dir.file("files") +
                           R"("
settle_ms = 0

[[plugin]]
name = "auth-sqlite"
db = ")" + dir.file("state/auth.db") +
                           "\"\n" + auth_extra + R"(
[[plugin]]
name = "broker-local"

[[plugin]]
name = "info-sqlite"
db = ")" + dir.file("state/catalog.db") +
                           R"("
admin_email = ")" + std::string(kAioAdmin) +
                           R"("
admin_password_file = ")" + dir.file("admin-pw") +
                           R"("
heartbeat_timeout_ms = 3000
)" + expand(info_extra));
    host = std::make_unique<Process>(std::vector<std::string>{bin("dfd-host"), "--config", config},
                                     std::map<std::string, std::string>{}, dir.file("host.log"));
    ready = wait_http(base + "/healthz", 200, 30s);
  }

  std::string expand(std::string text) const {
    for (auto at = text.find("@DIR@"); at != std::string::npos; at = text.find("@DIR@")) {
      text.replace(at, 5, dir.file(""));
    }
    return text;
  }

  // The id of the one file once the catalog lists it as available ("" after 20 s).
  std::string file_id(const std::string& auth_header) const {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < end) {
      auto r = http("GET", base + "/v1/files?limit=10", {auth_header});
      auto files = nlohmann::json::parse(r.body, nullptr, false);
      if (r.status == 200 && files["total"] == 1 && files["files"][0]["available"] == true) {
        return std::to_string(files["files"][0]["id"].get<int>());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
  }

  HttpReply login(const std::string& email, const std::string& pw,
                  std::vector<std::string> headers = {}) const {
    headers.push_back("Content-Type: application/json");
    return http("POST", base + "/v1/auth/login", headers,
                nlohmann::json{{"email", email}, {"password", pw}}.dump());
  }

  TempDir dir;
  std::string base, data, config;
  std::unique_ptr<Process> host;
  bool ready = false;
};

}  // namespace dfd::test
