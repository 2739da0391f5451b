#include "cluster_tls.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "harness.hpp"

namespace dfd::test {

ClusterTls::ClusterTls(std::string dir) : dir_(std::move(dir)) {
  const char* env = std::getenv("DFD_TEST_TLS");
  std::string v = env ? env : "";
  on = v == "1" || (kTlsByDefault && v != "0");
}

void ClusterTls::make_certificates() {
  if (!on || ready_) return;
  EXPECT_TRUE(make_pki(dir_, {"server", "client"})) << "scripts/pki " << dir_;
  set_http_tls({ca_file(), "", ""});
  ready_ = true;
}

std::vector<std::string> ClusterTls::rabbitmq_start_args() {
  if (!on) return {};
  make_certificates();
  return {"--tls", dir_};
}

void ClusterTls::apply_to(const std::string& path) {
  if (!on) return;
  make_certificates();
  std::string text = read_file(path);
  auto at = text.find("[server]\n");
  ASSERT_NE(at, std::string::npos) << path << " has no [server] table";
  text.insert(at + 9,
              "tls_cert = \"" + dir_ + "/server.pem\"\ntls_key = \"" + dir_ + "/server.key\"\n");
  // `url = "amqps://..."` or `urls = ["amqps://...", ...]`: ca_file on the next line.
  const std::string url = "url = \"amqps://", urls = "urls = [\"amqps://";
  for (auto u = std::min(text.find(url), text.find(urls)); u != std::string::npos;
       u = std::min(text.find(url, u + 1), text.find(urls, u + 1))) {
    auto eol = text.find('\n', u);
    if (eol == std::string::npos) eol = text.size();
    text.insert(eol, "\nca_file = \"" + ca_file() + "\"");
  }
  write_file(path, text);
}

}  // namespace dfd::test
