#include "cluster_tls.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "harness.hpp"

namespace dfd::test {

ClusterTls::ClusterTls(std::string dir) : dir_(std::move(dir)) {
  const char* env = std::getenv("DFD_TEST_TLS");
  on = kControlTlsByDefault || (env && std::string(env) == "1");
}

void ClusterTls::add_server_keys(const std::string& path) {
  if (!on) return;
  if (!ready_) {
    EXPECT_TRUE(make_pki(dir_, {"server", "client"})) << "scripts/pki " << dir_;
    set_http_tls({ca_file(), "", ""});
    ready_ = true;
  }
  std::string text = read_file(path);
  auto at = text.find("[server]\n");
  ASSERT_NE(at, std::string::npos) << path << " has no [server] table";
  text.insert(at + 9,
              "tls_cert = \"" + dir_ + "/server.pem\"\ntls_key = \"" + dir_ + "/server.key\"\n");
  write_file(path, text);
}

}  // namespace dfd::test
