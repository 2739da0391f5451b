// Signed events (sdk/include/dfd/event_signing.hpp): envelope, Signer, Verifier, ReplayCache.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "dfd/event_signing.hpp"
#include "harness.hpp"

namespace ev = dfd::events;
using ev::Rejection;

namespace {

constexpr std::int64_t kNow = 1800000000;
constexpr std::string_view kId = "0123456789abcdef0123456789abcdef";
const std::string kBody = R"({"v":1,"token_hash":"ab"})";

struct Keys {
  ev::KeyPairPem info = *ev::generate_key_pair();
  ev::KeyPairPem fs_a = *ev::generate_key_pair();
  ev::KeyPairPem stranger = *ev::generate_key_pair();
  ev::Signer info_signer = *ev::Signer::from_pem(info.private_pem, "info");
  ev::Signer fs_a_signer = *ev::Signer::from_pem(fs_a.private_pem, "fs-a");
  std::shared_ptr<const ev::TrustedKeys> trusted =
      *ev::TrustedKeys::from_pems({{"info", info.public_pem}, {"fs-a", fs_a.public_pem}});
};

const Keys& keys() {
  static const Keys k;
  return k;
}

Rejection verdict(const ev::Verifier& v, std::string_view key, std::string_view msg,
                  std::int64_t now = kNow) {
  return v.verify(key, msg, now).reason;
}

TEST(EventSigning, ASealedEventVerifiesAndGivesTheBodyBack) {
  ev::Verifier v(keys().trusted, std::chrono::seconds(600));
  auto msg = keys().info_signer.seal("token.issued", kBody, kNow);
  ASSERT_TRUE(msg.ok()) << msg.status().to_string();
  auto r = v.verify("token.issued", *msg, kNow);
  ASSERT_EQ(r.reason, Rejection::kNone);
  EXPECT_EQ(r.envelope.body, kBody);
  EXPECT_EQ(r.envelope.sender, "info");
  EXPECT_EQ(r.envelope.key_id, keys().info.key_id);
  EXPECT_EQ(r.envelope.ts, kNow);
}

TEST(EventSigning, ATamperedByteInAnyFieldBreaksTheSignature) {
  ev::Verifier v(keys().trusted, std::chrono::seconds(600));
  std::string msg = *keys().info_signer.seal_with_id("token.issued", kBody, kNow, kId);
  std::size_t nl = msg.find('\n');
  // Every byte of the header's ts, event id and signature, and every byte of the body.
  std::size_t ts_at = msg.find(std::to_string(kNow));
  for (std::size_t i = ts_at; i < msg.size(); ++i) {
    if (i == nl || msg[i] == ' ') continue;
    std::string t = msg;
    t[i] = t[i] == '1' ? '2' : '1';
    Rejection r = verdict(v, "token.issued", t);
    EXPECT_TRUE(r == Rejection::kBadSignature || r == Rejection::kUnsigned)
        << "byte " << i << " -> " << ev::rejection_name(r);
  }
  // The sender and the key id: another (unknown) key.
  std::string t = msg;
  t.replace(t.find("info"), 4, "fs-a");
  EXPECT_EQ(verdict(v, "token.issued", t), Rejection::kUnknownKey);
  t = msg;
  std::size_t kid = t.find(keys().info.key_id);
  t[kid] = t[kid] == '0' ? '1' : '0';
  EXPECT_EQ(verdict(v, "token.issued", t), Rejection::kUnknownKey);
  EXPECT_EQ(verdict(v, "token.issued", msg), Rejection::kNone);
}

TEST(EventSigning, TheRoutingKeyIsSigned) {
  ev::Verifier v(keys().trusted, std::chrono::seconds(600));
  std::string msg = *keys().info_signer.seal("token.revoked", kBody, kNow);
  EXPECT_EQ(verdict(v, "token.issued", msg), Rejection::kBadSignature);
  EXPECT_EQ(verdict(v, "token.revoked", msg), Rejection::kNone);
}

TEST(EventSigning, UnsignedUntrustedAndMalformedEventsAreRefused) {
  ev::Verifier v(keys().trusted, std::chrono::seconds(600));
  EXPECT_EQ(verdict(v, "token.issued", kBody), Rejection::kUnsigned);
  EXPECT_EQ(verdict(v, "token.issued", ""), Rejection::kUnsigned);
  EXPECT_EQ(verdict(v, "token.issued", "dfd-sig1 info\n{}"), Rejection::kUnsigned);
  auto stranger = *ev::Signer::from_pem(keys().stranger.private_pem, "info");
  EXPECT_EQ(verdict(v, "token.issued", *stranger.seal("token.issued", kBody, kNow)),
            Rejection::kUnknownKey);
  // A header longer than the limit, and a leading zero in ts.
  std::string msg = *keys().info_signer.seal_with_id("token.issued", kBody, kNow, kId);
  EXPECT_EQ(verdict(v, "token.issued", msg.substr(0, 9) + std::string(600, 'a') + msg.substr(9)),
            Rejection::kUnsigned);
  std::string z = msg;
  z.insert(z.find(std::to_string(kNow)), "0");
  EXPECT_EQ(verdict(v, "token.issued", z), Rejection::kUnsigned);
}

TEST(EventSigning, FileAndServerEventsMustComeFromTheServerTheyName) {
  ev::Verifier v(keys().trusted, std::chrono::seconds(600));
  for (std::string key : {"file.available.fs-b", "file.removed.fs-b", "server.heartbeat.fs-b"}) {
    EXPECT_EQ(verdict(v, key, *keys().fs_a_signer.seal(key, kBody, kNow)), Rejection::kWrongSender)
        << key;
  }
  for (std::string key : {"file.available.fs-a", "file.removed.fs-a", "server.heartbeat.fs-a"}) {
    EXPECT_EQ(verdict(v, key, *keys().fs_a_signer.seal(key, kBody, kNow)), Rejection::kNone) << key;
  }
  // token.* names nobody: any trusted sender (this verifier's trusted_keys decide who that is).
  EXPECT_EQ(verdict(v, "token.issued", *keys().info_signer.seal("token.issued", kBody, kNow)),
            Rejection::kNone);
}

TEST(EventSigning, TheTimeWindowIsInclusiveAtBothEdges) {
  ev::Verifier v(keys().trusted, std::chrono::seconds(600));
  for (auto [ts, want] :
       {std::pair{kNow - 600, Rejection::kNone}, std::pair{kNow - 601, Rejection::kStale},
        std::pair{kNow + 600, Rejection::kNone}, std::pair{kNow + 601, Rejection::kStale}}) {
    EXPECT_EQ(verdict(v, "token.issued", *keys().info_signer.seal("token.issued", kBody, ts)), want)
        << ts - kNow;
  }
}

TEST(EventSigning, AnIdIsRememberedOnlyOnceAccepted) {
  ev::Verifier v(keys().trusted, std::chrono::seconds(600));
  std::string msg = *keys().info_signer.seal("token.issued", kBody, kNow);
  auto first = v.verify("token.issued", msg, kNow);
  ASSERT_EQ(first.reason, Rejection::kNone);
  // The handler failed: not accepted, the redelivery is still good.
  auto again = v.verify("token.issued", msg, kNow + 1);
  ASSERT_EQ(again.reason, Rejection::kNone);
  v.accepted(again.envelope, kNow + 1);
  EXPECT_EQ(verdict(v, "token.issued", msg, kNow + 2), Rejection::kReplayed);
  // Once the event is older than the window it is stale, and its id is dropped.
  EXPECT_EQ(verdict(v, "token.issued", msg, kNow + 601), Rejection::kStale);
  v.accepted(v.verify("token.issued", *keys().info_signer.seal("token.issued", kBody, kNow + 700),
                      kNow + 700)
                 .envelope,
             kNow + 700);
  EXPECT_EQ(v.replay_cache().size(), 1u);
}

TEST(EventSigning, AFullReplayCacheShrinksTheWindowInsteadOfForgetting) {
  ev::ReplayCache c(std::chrono::seconds(600), 3);
  c.remember("00000000000000000000000000000001", kNow - 10, kNow);
  c.remember("00000000000000000000000000000002", kNow - 5, kNow);
  c.remember("00000000000000000000000000000003", kNow - 1, kNow);
  EXPECT_EQ(c.floor(), 0);
  c.remember("00000000000000000000000000000004", kNow, kNow);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.floor(), kNow - 10);
  // The forgotten id cannot come back: its ts is at the floor.
  EXPECT_EQ(c.check("00000000000000000000000000000001", kNow - 10), Rejection::kStale);
  EXPECT_EQ(c.check("00000000000000000000000000000002", kNow - 5), Rejection::kReplayed);
  EXPECT_EQ(c.check("00000000000000000000000000000009", kNow - 9), Rejection::kNone);
}

TEST(EventSigning, PrivateKeyFilesMustBeOwnerOnlyRegularFiles) {
  dfd::test::TempDir dir;
  std::string path = dir.file("k.key");
  dfd::test::write_file(path, keys().info.private_pem);
  ::chmod(path.c_str(), 0640);
  auto s = ev::Signer::load(path, "info");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("0640"), std::string::npos) << s.status().message();
  EXPECT_EQ(s.status().message().find("PRIVATE"), std::string::npos);
  // A link is followed and its target judged (mounted secrets are links).
  ::symlink(path.c_str(), dir.file("link.key").c_str());
  EXPECT_FALSE(ev::Signer::load(dir.file("link.key"), "info").ok());
  ::chmod(path.c_str(), 0600);
  ASSERT_TRUE(ev::Signer::load(path, "info").ok());
  EXPECT_TRUE(ev::Signer::load(dir.file("link.key"), "info").ok());
  EXPECT_FALSE(ev::Signer::load(dir.path(), "info").ok());
  dfd::test::write_file(dir.file("public.key"), keys().info.public_pem);
  ::chmod(dir.file("public.key").c_str(), 0600);
  auto pub = ev::Signer::load(dir.file("public.key"), "info");
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.status().message().find("public.key"), std::string::npos);
}

TEST(EventSigning, TrustedKeysComeFromPubFilesNamedAfterTheSender) {
  dfd::test::TempDir dir;
  dfd::test::write_file(dir.file("info.pub"), keys().info.public_pem);
  dfd::test::write_file(dir.file("info@next.pub"), keys().stranger.public_pem);
  dfd::test::write_file(dir.file("README"), "not a key");
  auto t = ev::TrustedKeys::load_dir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ((*t)->size(), 2u);
  EXPECT_NE((*t)->find("info", keys().info.key_id), nullptr);
  EXPECT_NE((*t)->find("info", keys().stranger.key_id), nullptr);
  EXPECT_EQ((*t)->find("fs-a", keys().info.key_id), nullptr);
  dfd::test::write_file(dir.file("bad.pub"), "garbage");
  auto bad = ev::TrustedKeys::load_dir(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.pub"), std::string::npos);
}

}  // namespace
