// The real cluster with TLS on (issue 12, the harness switch of cluster_tls.hpp): RabbitMQ, an
// info server and a file server whose [server] tables carry tls_cert/tls_key from scripts/pki
// (the file server's data plane follows them). The harness, `dfd login`, `ls` and `get` reach them
// over https with the CA (DFD_CA_BUNDLE); plain http to the info server is refused. Should the
// data plane be plain http, `get` must refuse to send the download token there (exit 11) unless
// --allow-insecure-locations.
#include <gtest/gtest.h>

#include "client_cluster.hpp"
#include "harness.hpp"

using namespace dfd::test;

namespace {

TEST(TlsControlE2e, LoginLsAndTheLocationPolicyOnAnHttpsCluster) {
  ClientCluster c("admin@tls-e2e.test", "tls e2e battery staple", 2 << 20, 1 << 20);
  c.tls.on = true;
  c.bring_up({{"fs-a", "zone-a"}});
  if (::testing::Test::HasFatalFailure()) {
    c.stop_all();
    return;
  }
  EXPECT_EQ(c.info_url.rfind("https://", 0), 0u) << c.info_url;
  EXPECT_EQ(http("GET", c.server("fs-a").control + "/healthz").status, 200);
  EXPECT_EQ(http("GET", "http" + c.info_url.substr(5) + "/healthz", {}, "", 3000).status, 0)
      << "the info server answered plain http";

  auto ls = c.dfd({"ls"});
  EXPECT_EQ(ls.status, 0) << ls.output;
  EXPECT_NE(ls.output.find(ClientCluster::kBigName), std::string::npos) << ls.output;

  TempDir out;
  std::string id = std::to_string(c.big_id);
  auto get = c.dfd({"get", id, "-o", out.file("big.bin"), "--no-progress"});
  if (c.server("fs-a").content_url.rfind("http://", 0) == 0) {
    EXPECT_EQ(get.status, 11) << get.output;
    EXPECT_NE(get.output.find("refusing to send the download token"), std::string::npos);
    get = c.dfd(
        {"get", id, "-o", out.file("big.bin"), "--no-progress", "--allow-insecure-locations"});
  }
  EXPECT_EQ(get.status, 0) << get.output;
  EXPECT_EQ(sha256_file(out.file("big.bin")), c.big_sha);
  c.stop_all();
}

}  // namespace
