// digest-openssl against published test vectors (FIPS 180-2 / FIPS 202 / RFC 7693 examples),
// streaming vs one-shot, unknown algorithms; and once through the host's real loader.
#include <gtest/gtest.h>

#include <iostream>

#include "config.hpp"
#include "dfd/digest.hpp"
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

TEST_F(DigestOpenSsl, Sha256Vectors) {
  EXPECT_EQ(hash("sha256", "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash("sha256", ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hash("sha256", kMsg448),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', fed in uneven pieces.
  auto h = digest_->new_hasher("sha256");
  ASSERT_TRUE(h.ok());
  std::string piece(997, 'a');
  std::size_t left = 1000000;
  while (left > 0) {
    std::size_t n = std::min(left, piece.size());
    (*h)->update(piece.data(), n);
    left -= n;
  }
  EXPECT_EQ((*h)->final_hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ((*h)->digest_size(), 32u);
}

TEST_F(DigestOpenSsl, DefaultIsSha256) {
  EXPECT_EQ(hash("", "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(DigestOpenSsl, Sha512Vectors) {
  EXPECT_EQ(hash("sha512", "abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c"
            "23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(hash("sha512", ""),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318"
            "d2877eec2f63b931bd47417a81a538327af927da3e");
  EXPECT_EQ(hash("sha512", kMsg448),
            "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3b"
            "ea57789ca031ad85c7a71dd70354ec631238ca3445");
}

TEST_F(DigestOpenSsl, Sha3_256Vectors) {
  EXPECT_EQ(hash("sha3-256", "abc"),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  EXPECT_EQ(hash("sha3-256", ""),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  EXPECT_EQ(hash("sha3-256", kMsg448),
            "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376");
}

TEST_F(DigestOpenSsl, Blake2b512Vectors) {
  EXPECT_EQ(hash("blake2b-512", "abc"),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5"
            "de4533cc9518d38aa8dbf1925ab92386edd4009923");
  EXPECT_EQ(hash("blake2b-512", ""),
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee5853138964"
            "44934eb04b903a685b1448b755d56f701afe9be2ce");
  EXPECT_EQ(hash("blake2b-512", kMsg448),
            "7285ff3e8bd768d69be62b3bf18765a325917fa9744ac2f582a20850bc2b1141ed1b3e4528595acc90772b"
            "df2d37dc8a47130b44f33a02e8730e5ad8e166e888");
}

TEST_F(DigestOpenSsl, ChunkedEqualsOneShotAndHasherResets) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  for (const auto& alg : digest_->algorithms()) {
    std::string one = hash(alg, data);
    auto h = digest_->new_hasher(alg);
    ASSERT_TRUE(h.ok());
    for (std::size_t off = 0, step = 1; off < data.size(); off += step, step = step * 3 + 1) {
      (*h)->update(data.data() + off, std::min(step, data.size() - off));
    }
    EXPECT_EQ((*h)->final_hex(), one) << alg;
    // final_hex() resets: the same hasher computes the next digest from scratch.
    (*h)->update("abc", 3);
    EXPECT_EQ((*h)->final_hex(), hash(alg, "abc")) << alg;
    // reset() discards input.
    (*h)->update("zzz", 3);
    (*h)->reset();
    (*h)->update("abc", 3);
    EXPECT_EQ((*h)->final_hex(), hash(alg, "abc")) << alg;
  }
}

TEST_F(DigestOpenSsl, UnknownAlgorithmIsNotFound) {
  auto h = digest_->new_hasher("md5");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), dfd::Code::kNotFound);
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

}  // namespace
