// auth-hmac beyond the conformance kit: the key file rules, foreign keys, the token format.
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <vector>

#define DFD_AUTH_CONFORMANCE_INTERFACE_ONLY
#include "auth_subjects.hpp"

namespace {

using dfd::Code;
using dfd::DownloadTokenRecord;
using dfd::TokenVerdict;
using dfd::authtest::hmac_config;
using dfd::authtest::PluginSubject;
using std::chrono::seconds;

constexpr const char* kUid = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

class AuthHmacTest : public ::testing::Test {
 protected:
  std::string key(const std::string& content, mode_t mode, const std::string& name = "hmac.key") {
    std::string path = dir_.file(name);
    dfd::test::write_file(path, content);
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  dfd::test::TempDir dir_;
};
using AuthHmac = AuthHmacTest;

TEST_F(AuthHmac, KeyFileTooShortIsAConfigError) {
  PluginSubject s("auth-hmac", hmac_config(key(std::string(31, 'k'), 0600), false));
  ASSERT_FALSE(s.loaded());
  EXPECT_EQ(s.error().code(), Code::kInvalidArgument);
  EXPECT_NE(s.error().message().find("key_file"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("31 bytes"), std::string::npos) << s.error().message();
}

TEST_F(AuthHmac, KeyFileReadableByOthersIsAConfigError) {
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    PluginSubject s("auth-hmac", hmac_config(key(std::string(32, 'k'), mode), false));
    ASSERT_FALSE(s.loaded()) << std::oct << mode;
    EXPECT_NE(s.error().message().find("key_file"), std::string::npos) << s.error().message();
    EXPECT_NE(s.error().message().find("chmod 600"), std::string::npos) << s.error().message();
  }
  PluginSubject ok("auth-hmac", hmac_config(key(std::string(32, 'k'), 0400), false));
  EXPECT_TRUE(ok.loaded()) << ok.error().to_string();
}

TEST_F(AuthHmac, MissingKeyFileWithoutCreateKeyIsAConfigError) {
  PluginSubject s("auth-hmac", hmac_config(dir_.file("absent.key"), false));
  ASSERT_FALSE(s.loaded());
  EXPECT_NE(s.error().message().find("key_file"), std::string::npos) << s.error().message();
  PluginSubject none("auth-hmac", {});
  ASSERT_FALSE(none.loaded());
  EXPECT_NE(none.error().message().find("key_file"), std::string::npos);
  PluginSubject typo("auth-hmac", {{"key_file", dir_.file("k")}, {"create_keys", true}});
  ASSERT_FALSE(typo.loaded());
  EXPECT_NE(typo.error().message().find("create_keys"), std::string::npos);
}

TEST_F(AuthHmac, CreateKeyWritesA0600FileOnceAndReusesIt) {
  std::string path = dir_.file("sub/dir/hmac.key");
  std::string token;
  {
    PluginSubject s("auth-hmac", hmac_config(path, true));
    ASSERT_TRUE(s.loaded()) << s.error().to_string();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_size, 32);
    auto t = s.auth().issue_download_token(kUid, 1, seconds(600), nullptr);
    ASSERT_TRUE(t.ok());
    token = t->token;
  }
  std::string content = dfd::test::read_file(path);
  // Another server with the same key file accepts the token without any event.
  PluginSubject again("auth-hmac", hmac_config(path, true));
  ASSERT_TRUE(again.loaded()) << again.error().to_string();
  EXPECT_EQ(dfd::test::read_file(path), content) << "an existing key must never be replaced";
  EXPECT_EQ(again.auth().verify_download_token(token, kUid), TokenVerdict::kValid);
  EXPECT_FALSE(again.auth().needs_token_events());
  EXPECT_FALSE(again.auth().supports_users());
  EXPECT_EQ(again.auth().create_user("a@b.c", "A", "pw", "user").status().code(),
            Code::kNotSupported);
}

TEST_F(AuthHmac, TokenSignedWithAnotherKeyIsInvalid) {
  PluginSubject a("auth-hmac", hmac_config(key(std::string(32, 'a'), 0600, "a.key"), false));
  PluginSubject b("auth-hmac", hmac_config(key(std::string(32, 'b'), 0600, "b.key"), false));
  ASSERT_TRUE(a.loaded() && b.loaded());
  auto t = a.auth().issue_download_token(kUid, 1, seconds(600), nullptr);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(a.auth().verify_download_token(t->token, kUid), TokenVerdict::kValid);
  EXPECT_EQ(b.auth().verify_download_token(t->token, kUid), TokenVerdict::kInvalid);
  // Swapping the signature of one token onto another payload fails too.
  auto t2 = a.auth().issue_download_token(kUid, 2, seconds(600), nullptr);
  ASSERT_TRUE(t2.ok());
  std::string mixed =
      t->token.substr(0, t->token.find('.')) + t2->token.substr(t2->token.find('.'));
  EXPECT_EQ(a.auth().verify_download_token(mixed, kUid), TokenVerdict::kInvalid);
}

TEST_F(AuthHmac, TokenFormat) {
  PluginSubject s("auth-hmac", hmac_config(key(std::string(40, 'z'), 0600), false));
  ASSERT_TRUE(s.loaded());
  DownloadTokenRecord r;
  auto t = s.auth().issue_download_token(kUid, 77, seconds(600), &r);
  ASSERT_TRUE(t.ok());
  const std::string& tok = t->token;
  auto dot = tok.find('.');
  ASSERT_NE(dot, std::string::npos);
  EXPECT_EQ(tok.find('.', dot + 1), std::string::npos);
  EXPECT_EQ(tok.size() - dot - 1, 43u) << "32-byte MAC in unpadded base64url";
  // 1 + 8 + 8 + 16 + 64 payload bytes = 97 bytes → 130 characters.
  EXPECT_EQ(dot, 130u);
  for (char c : tok) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  }
  EXPECT_EQ(tok.substr(0, 2), "AQ") << "version byte 1 first";
  // Expired but otherwise fine: expiry is checked after the MAC, before the scope.
  s.advance(std::chrono::milliseconds(601'000));
  EXPECT_EQ(s.auth().verify_download_token(tok, "other"), TokenVerdict::kExpired);
}

TEST_F(AuthHmac, RevocationsAreHeldInMemoryPerInstance) {
  std::string path = key(std::string(32, 'r'), 0600);
  PluginSubject a("auth-hmac", hmac_config(path, false));
  PluginSubject b("auth-hmac", hmac_config(path, false));
  DownloadTokenRecord r;
  auto t = a.auth().issue_download_token(kUid, 1, seconds(600), &r);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(b.auth().remember_download_token(r).ok());  // a no-op
  ASSERT_TRUE(b.auth().revoke_download_token(r.token_hash).ok());
  EXPECT_EQ(b.auth().verify_download_token(t->token, kUid), TokenVerdict::kRevoked);
  EXPECT_EQ(a.auth().verify_download_token(t->token, kUid), TokenVerdict::kValid);
  EXPECT_EQ(b.auth().revoke_download_token("short").code(), Code::kInvalidArgument);
}

}  // namespace

namespace {

// ABI minor 1: the tokens this instance issued to a user can be revoked together (logout, a
// disabled user); other users' tokens stay valid.
TEST_F(AuthHmac, RevokesTheTokensItIssuedToAUser) {
  PluginSubject s("auth-hmac", hmac_config(key(std::string(32, 'k'), 0600), false));
  ASSERT_TRUE(s.loaded()) << s.error().to_string();
  auto& a = s.auth();
  auto t1 = a.issue_download_token(kUid, 7, seconds(600), nullptr);
  auto t2 = a.issue_download_token(kUid, 7, seconds(600), nullptr);
  auto other = a.issue_download_token(kUid, 8, seconds(600), nullptr);
  ASSERT_TRUE(t1.ok() && t2.ok() && other.ok());
  std::vector<std::string> hashes;
  ASSERT_TRUE(a.revoke_download_tokens_of(7, &hashes).ok());
  EXPECT_EQ(hashes.size(), 2u);
  EXPECT_EQ(a.verify_download_token(t1->token, kUid), TokenVerdict::kRevoked);
  EXPECT_EQ(a.verify_download_token(t2->token, kUid), TokenVerdict::kRevoked);
  EXPECT_EQ(a.verify_download_token(other->token, kUid), TokenVerdict::kValid);
  ASSERT_TRUE(a.revoke_download_tokens_of(9, &hashes).ok());
  EXPECT_TRUE(hashes.empty());
}

}  // namespace
