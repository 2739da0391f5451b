// digest-openssl: the SDK's digest conformance suite (dfd/testing/digest_conformance.hpp: the
// standard vectors, streaming, resets, unknown names, threads), its own algorithm list and default,
// two-block vectors, and once through the host's real loader.
#include <gtest/gtest.h>

#include <iostream>

#include "config.hpp"
#include "dfd/digest.hpp"
#include "dfd/testing/digest_conformance.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "plugin_loader.hpp"
#include "route_table.hpp"

namespace {

const std::string kMsg448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

class DigestOpenSsl : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lp = dfd::test::load_plugin("digest-openssl", host_);
    ASSERT_TRUE(lp.ok()) << lp.status().to_string();
    plugin_ = std::move(lp).value();
    digest_ = plugin_.as<dfd::Digest>();
  }
  std::string hash(const std::string& alg, const std::string& data) {
    auto h = digest_->new_hasher(alg);
    EXPECT_TRUE(h.ok()) << h.status().to_string();
    if (!h.ok()) return {};
    (*h)->update(data.data(), data.size());
    return (*h)->final_hex();
  }
  dfd::test::FakeHost host_;
  dfd::test::LoadedPlugin plugin_;
  dfd::Digest* digest_ = nullptr;
};

TEST_F(DigestOpenSsl, Algorithms) {
  EXPECT_EQ(digest_->algorithms(),
            (std::vector<std::string>{"sha256", "sha512", "sha3-256", "blake2b-512"}));
  EXPECT_EQ(plugin_.descriptor()->kind, dfd::PluginKind::kDigest);
  EXPECT_STREQ(plugin_.descriptor()->name, "digest-openssl");
}

// The 448-bit message of FIPS 180-2 (two blocks after padding); "" and "abc", one million 'a',
// streaming, resets and unknown names are the SDK's digest conformance suite (below).
TEST_F(DigestOpenSsl, TwoBlockVectors) {
  EXPECT_EQ(hash("sha256", kMsg448),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hash("sha512", kMsg448),
            "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3b"
            "ea57789ca031ad85c7a71dd70354ec631238ca3445");
  EXPECT_EQ(hash("sha3-256", kMsg448),
            "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376");
  EXPECT_EQ(hash("blake2b-512", kMsg448),
            "7285ff3e8bd768d69be62b3bf18765a325917fa9744ac2f582a20850bc2b1141ed1b3e4528595acc90772b"
            "df2d37dc8a47130b44f33a02e8730e5ad8e166e888");
}

TEST_F(DigestOpenSsl, DefaultIsSha256) {
  EXPECT_EQ(hash("", "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(DigestOpenSsl, UnknownAlgorithmIsNamed) {
  auto h = digest_->new_hasher("md5");
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("md5"), std::string::npos);
}

TEST(DigestOpenSslConfig, RejectsAnyKey) {
  dfd::test::FakeHost host({{"algorithm", std::string("sha1")}}, "digest-openssl");
  auto lp = dfd::test::load_plugin("digest-openssl", host);
  ASSERT_FALSE(lp.ok());
  EXPECT_EQ(lp.status().code(), dfd::Code::kInvalidArgument);
}

// Through the host's own loader (all checks, HostServices, start/stop, unload).
TEST(DigestOpenSslViaHostLoader, LoadsStartsHashesAndUnloads) {
  dfd::test::TempDir dir;
  auto cfg = dfd::host::parse_host_config(
      "plugin_path = [\"" + dfd::test::plugin_dir() + "\"]\n[server]\nid = \"t\"\nstate_dir = \"" +
          dir.path() + "\"\n[[plugin]]\nname = \"digest-openssl\"\n",
      dir.file("cfg.toml"));
  ASSERT_TRUE(cfg.ok()) << cfg.status().to_string();
  dfd::host::MetricsRegistry metrics;
  dfd::host::RealClock clock;
  dfd::host::RouteTable routes;
  dfd::ServerIdentity id{"t", "z", "http://127.0.0.1:1", dir.path()};
  dfd::host::SharedServices shared{metrics, clock, id, routes, dfd::LogLevel::kWarn};
  dfd::host::PluginSet set(shared, dfd::host::make_logger("test", dfd::LogLevel::kWarn));
  ASSERT_TRUE(set.load(*cfg).ok());
  ASSERT_EQ(set.plugins().size(), 1u);
  EXPECT_EQ(set.plugins()[0]->file, dfd::test::plugin_dir() + "/libdfd-digest-openssl.so");
  ASSERT_TRUE(set.start_all().ok());
  auto* d = static_cast<dfd::Digest*>(set.find(dfd::PluginKind::kDigest));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(set.find(dfd::PluginKind::kDigest, "digest-openssl"), d);
  EXPECT_EQ(set.find(dfd::PluginKind::kDigest, "other"), nullptr);
  EXPECT_EQ(set.find(dfd::PluginKind::kStorage), nullptr);
  auto h = d->new_hasher("sha256");
  ASSERT_TRUE(h.ok());
  (*h)->update("abc", 3);
  EXPECT_EQ((*h)->final_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  h = dfd::Status::Internal("drop the hasher before the plugin");
  set.stop_all();
  set.unload();
  EXPECT_TRUE(set.plugins().empty());
}

class OpensslSubject final : public dfd::conformance::DigestSubject {
 public:
  dfd::Digest& digest() override { return *plugin.as<dfd::Digest>(); }
  dfd::test::FakeHost host;
  dfd::test::LoadedPlugin plugin;  // destroyed before `host`
};

std::unique_ptr<dfd::conformance::DigestSubject> make_openssl() {
  auto s = std::make_unique<OpensslSubject>();
  auto p = dfd::test::load_plugin("digest-openssl", s->host);
  if (!p.ok()) {
    ADD_FAILURE() << "load digest-openssl: " << p.status().to_string();
    return nullptr;
  }
  s->plugin = std::move(p.value());
  return s;
}

}  // namespace

// Issue 15: the SDK's digest conformance suite.
INSTANTIATE_TEST_SUITE_P(DigestOpenssl, DigestConformance,
                         ::testing::Values(dfd::conformance::DigestCase{"openssl", &make_openssl}),
                         dfd::conformance::DigestCaseName());
