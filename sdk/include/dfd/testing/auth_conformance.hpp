// dfd SDK testing kit — the conformance suite every auth plugin passes (header-only, GoogleTest).
//
// Use it from ONE test translation unit:
//
//   #include "dfd/testing/auth_conformance.hpp"
//
//   class MySubject : public dfd::conformance::AuthSubject { ... };  // owns host + plugin instance
//   INSTANTIATE_TEST_SUITE_P(MyAuth, AuthConformance,
//       ::testing::Values(dfd::conformance::AuthCase{"my_auth", [] { return make_my_subject(); }}),
//       dfd::conformance::AuthCaseName());
//
// The TEST_P definitions below may exist in only one translation unit of a test program; other
// files that need just AuthSubject/AuthCase define DFD_AUTH_CONFORMANCE_INTERFACE_ONLY before
// including this header.
//
// Every test makes a fresh subject (a started plugin instance with its own state) through the
// factory, so tests are independent. The subject owns the clock the plugin reads through
// HostServices and moves it forward on advance(); nothing here sleeps on real time.
//
// What is checked (the contract of dfd/auth.hpp for download tokens):
//   issue → verify is kValid; the same token for another scope → kWrongScope; after the ttl →
//   kExpired; tampered (a character flipped in the middle or at the end), truncated, empty and
//   random garbage → never kValid (empty → kInvalid); two tokens for one scope differ; the issued
//   record carries sha256_hex(token), the scope, the user and the expiry; revoke by hash →
//   kRevoked; remember of the own record is idempotent; concurrent issue + verify from 4 threads.
// For a plugin that stores users (supports_users(); the others skip these), ABI minor 2:
//   list_users pages in id order with the disabled flag, count_users counts them all;
//   set_password makes the old password fail and the new one work, ends every user token of the
//   user (not of others), keeps the disabled flag, and refuses an unknown id (kNotFound) and an
//   empty password (kInvalidArgument).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dfd/auth.hpp"
#include "dfd/events.hpp"

namespace dfd::conformance {

// One plugin instance under test, with control over the clock it sees.
class AuthSubject {
 public:
  virtual ~AuthSubject() = default;
  // The started plugin instance; valid for the subject's lifetime.
  virtual Auth& auth() = 0;
  // Moves the plugin's clock (HostServices::clock()) forward by `d`.
  virtual void advance(std::chrono::milliseconds d) = 0;
};

using AuthSubjectFactory = std::function<std::unique_ptr<AuthSubject>()>;

struct AuthCase {
  std::string name;  // [A-Za-z0-9_] only: used in the test name
  AuthSubjectFactory make;
};

inline void PrintTo(const AuthCase& c, std::ostream* os) {
  *os << c.name;
}

// Name generator for INSTANTIATE_TEST_SUITE_P.
struct AuthCaseName {
  std::string operator()(const ::testing::TestParamInfo<AuthCase>& info) const {
    return info.param.name;
  }
};

}  // namespace dfd::conformance

#ifndef DFD_AUTH_CONFORMANCE_INTERFACE_ONLY

// In the global namespace so that INSTANTIATE_TEST_SUITE_P(Prefix, AuthConformance, ...) works
// without qualification.
class AuthConformance : public ::testing::TestWithParam<dfd::conformance::AuthCase> {
 protected:
  static constexpr const char* kScope =
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  static constexpr const char* kOtherScope =
      "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

  void SetUp() override {
    subject_ = GetParam().make();
    ASSERT_NE(subject_, nullptr) << "the factory made no subject";
  }
  void TearDown() override { subject_.reset(); }

  dfd::Auth& auth() { return subject_->auth(); }

  // Issues a token for `scope`, failing the test on error.
  std::string issue(const std::string& scope, std::chrono::seconds ttl = std::chrono::seconds(600),
                    dfd::DownloadTokenRecord* record = nullptr, std::int64_t user = 7) {
    auto t = auth().issue_download_token(scope, user, ttl, record);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    if (!t.ok()) return {};
    EXPECT_FALSE(t->token.empty());
    return t->token;
  }

  static std::string verdict(dfd::TokenVerdict v) { return dfd::verdict_name(v); }

  std::unique_ptr<dfd::conformance::AuthSubject> subject_;
};

// Flips one character to another character of the same (URL-safe) alphabet, so the token still
// looks well-formed and only the cryptography or the lookup can refuse it.
inline std::string dfd_flip_char(std::string s, std::size_t i) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto pos = kAlphabet.find(s[i]);
  s[i] = pos == std::string::npos ? 'A' : kAlphabet[(pos + 1) % kAlphabet.size()];
  return s;
}

TEST_P(AuthConformance, IssuedTokenVerifies) {
  std::string t = issue(kScope);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(verdict(auth().verify_download_token(t, kScope)), "valid");
  // Verification has no side effect that would make a second check fail.
  EXPECT_EQ(verdict(auth().verify_download_token(t, kScope)), "valid");
}

TEST_P(AuthConformance, TokenForAnotherScopeIsWrongScope) {
  std::string t = issue(kScope);
  EXPECT_EQ(verdict(auth().verify_download_token(t, kOtherScope)), "wrong_scope");
  EXPECT_EQ(verdict(auth().verify_download_token(t, kScope)), "valid");
}

TEST_P(AuthConformance, TokenExpiresAfterItsTtl) {
  std::string t = issue(kScope, std::chrono::seconds(1));
  std::string longer = issue(kScope, std::chrono::seconds(3600));
  EXPECT_EQ(verdict(auth().verify_download_token(t, kScope)), "valid");
  subject_->advance(std::chrono::milliseconds(2500));
  EXPECT_EQ(verdict(auth().verify_download_token(t, kScope)), "expired");
  EXPECT_EQ(verdict(auth().verify_download_token(longer, kScope)), "valid");
  subject_->advance(std::chrono::hours(2));
  EXPECT_EQ(verdict(auth().verify_download_token(longer, kScope)), "expired");
}

TEST_P(AuthConformance, TamperedTokenIsRefused) {
  std::string t = issue(kScope);
  ASSERT_GT(t.size(), 8u);
  for (std::size_t i : {std::size_t{0}, t.size() / 2, t.size() - 2, t.size() - 1}) {
    std::string bad = dfd_flip_char(t, i);
    ASSERT_NE(bad, t);
    EXPECT_NE(verdict(auth().verify_download_token(bad, kScope)), "valid") << "flipped at " << i;
  }
  // Every single-character change at the end (the MAC or random part) is refused.
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (char c : kAlphabet) {
    if (c == t.back()) continue;
    std::string bad = t;
    bad.back() = c;
    EXPECT_NE(verdict(auth().verify_download_token(bad, kScope)), "valid") << "last char " << c;
  }
  EXPECT_NE(verdict(auth().verify_download_token(t + "A", kScope)), "valid");
  EXPECT_NE(verdict(auth().verify_download_token(" " + t, kScope)), "valid");
  EXPECT_EQ(verdict(auth().verify_download_token(t, kScope)), "valid");
}

TEST_P(AuthConformance, TruncatedTokenIsRefused) {
  std::string t = issue(kScope);
  for (std::size_t n : {t.size() - 1, t.size() - 2, t.size() / 2, std::size_t{1}}) {
    EXPECT_NE(verdict(auth().verify_download_token(t.substr(0, n), kScope)), "valid")
        << "kept " << n << " chars";
    EXPECT_NE(verdict(auth().verify_download_token(t.substr(t.size() - n), kScope)), "valid")
        << "kept the last " << n << " chars";
  }
}

TEST_P(AuthConformance, EmptyTokenIsInvalid) {
  EXPECT_EQ(verdict(auth().verify_download_token("", kScope)), "invalid");
  std::string t = issue(kScope);
  EXPECT_NE(verdict(auth().verify_download_token(t, "")), "valid");
}

TEST_P(AuthConformance, GarbageIsRefused) {
  std::mt19937_64 rng(12345);
  std::vector<std::string> samples = {
      ".",
      "..",
      "a.b",
      "Bearer",
      std::string(1, '\0'),
      std::string(5000, 'A'),
      std::string(100000, '.'),
      "\xff\xfe\xfd",
      "null",
      "../../etc/passwd",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
  for (int i = 0; i < 200; ++i) {
    std::string s(1 + rng() % 120, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    samples.push_back(s);
  }
  for (const auto& s : samples) {
    EXPECT_NE(verdict(auth().verify_download_token(s, kScope)), "valid");
  }
}

TEST_P(AuthConformance, TwoTokensForOneScopeDiffer) {
  std::string a = issue(kScope);
  std::string b = issue(kScope);
  EXPECT_NE(a, b);
  EXPECT_EQ(verdict(auth().verify_download_token(a, kScope)), "valid");
  EXPECT_EQ(verdict(auth().verify_download_token(b, kScope)), "valid");
}

TEST_P(AuthConformance, RecordDescribesTheToken) {
  dfd::DownloadTokenRecord r;
  auto before = std::chrono::system_clock::now();
  auto t = auth().issue_download_token(kScope, 42, std::chrono::seconds(600), &r);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(r.token_hash, dfd::sha256_hex(t->token));
  EXPECT_EQ(r.token_hash.size(), 64u);
  EXPECT_EQ(r.scope, kScope);
  EXPECT_EQ(r.user_id, 42);
  EXPECT_EQ(r.expires_at, t->expires_at);
  // The plugin's clock may be ahead of the real one, never behind.
  EXPECT_GE(t->expires_at, before + std::chrono::seconds(599));
  // The token is not its own hash, and is long enough to carry >= 128 bits.
  EXPECT_NE(t->token, r.token_hash);
  EXPECT_GE(t->token.size(), 22u);
  // A null record pointer is allowed.
  auto t2 = auth().issue_download_token(kScope, 42, std::chrono::seconds(600), nullptr);
  EXPECT_TRUE(t2.ok()) << t2.status().to_string();
}

TEST_P(AuthConformance, RememberIsIdempotent) {
  dfd::DownloadTokenRecord r;
  std::string t = issue(kScope, std::chrono::seconds(600), &r);
  EXPECT_TRUE(auth().remember_download_token(r).ok());
  EXPECT_TRUE(auth().remember_download_token(r).ok());
  EXPECT_EQ(verdict(auth().verify_download_token(t, kScope)), "valid");
}

TEST_P(AuthConformance, RevokedTokenIsRefused) {
  dfd::DownloadTokenRecord r;
  std::string t = issue(kScope, std::chrono::seconds(600), &r);
  std::string other = issue(kScope);
  EXPECT_TRUE(auth().revoke_download_token(r.token_hash).ok());
  EXPECT_TRUE(auth().revoke_download_token(r.token_hash).ok());  // idempotent
  EXPECT_EQ(verdict(auth().verify_download_token(t, kScope)), "revoked");
  EXPECT_EQ(verdict(auth().verify_download_token(other, kScope)), "valid");
}

TEST_P(AuthConformance, AbsurdTtlIsRefusedOrHonoured) {
  // Either an error or a token that works: never a crash, never an overflowed (past) expiry.
  for (auto ttl : {std::chrono::seconds(std::int64_t{1} << 40), std::chrono::seconds(INT64_MAX / 2),
                   std::chrono::seconds(INT64_MAX)}) {
    auto t = auth().issue_download_token(kScope, 1, ttl, nullptr);
    if (t.ok()) {
      EXPECT_EQ(verdict(auth().verify_download_token(t->token, kScope)), "valid");
    }
  }
}

TEST_P(AuthConformance, ConcurrentIssueAndVerify) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::string scope = std::string(kScope).substr(0, 60) + std::to_string(1000 + i);
      for (int n = 0; n < kPerThread; ++n) {
        auto t = auth().issue_download_token(scope, i, std::chrono::seconds(600), nullptr);
        if (!t.ok()) {
          ++failures;
          continue;
        }
        if (auth().verify_download_token(t->token, scope) != dfd::TokenVerdict::kValid) {
          ++failures;
        }
        if (auth().verify_download_token(t->token, kOtherScope) != dfd::TokenVerdict::kWrongScope) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---- users, ABI minor 2 (only for plugins that store users) ----

TEST_P(AuthConformance, ListUsersPagesInIdOrderWithTheDisabledFlag) {
  if (!auth().supports_users()) GTEST_SKIP() << "this plugin stores no users";
  std::vector<std::int64_t> ids;
  for (const char* e : {"ann@example.com", "bob@example.com", "cy@example.com"}) {
    auto u = auth().create_user(e, std::string("N ") + e, "password-1", "user");
    ASSERT_TRUE(u.ok()) << u.status().to_string();
    ids.push_back(u->id);
  }
  ASSERT_TRUE(auth().set_user_disabled(ids[1], true).ok());
  auto count = auth().count_users();
  ASSERT_TRUE(count.ok()) << count.status().to_string();
  EXPECT_EQ(*count, 3);
  auto all = auth().list_users(100, 0);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*all)[i].user.id, ids[i]);
    EXPECT_EQ((*all)[i].disabled, i == 1) << i;
    EXPECT_EQ((*all)[i].user.role, "user");
  }
  EXPECT_EQ((*all)[0].user.email, "ann@example.com");
  EXPECT_EQ((*all)[0].user.name, "N ann@example.com");
  auto first = auth().list_users(2, 0);
  auto rest = auth().list_users(2, 2);
  auto past = auth().list_users(2, 10);
  auto none = auth().list_users(0, 0);
  ASSERT_TRUE(first.ok() && rest.ok() && past.ok() && none.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[1].user.id, ids[1]);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].user.id, ids[2]);
  EXPECT_TRUE(past->empty());
  EXPECT_TRUE(none->empty());
  // Absurd bounds are not an error (they are clamped).
  auto huge = auth().list_users(SIZE_MAX, SIZE_MAX);
  ASSERT_TRUE(huge.ok()) << huge.status().to_string();
  EXPECT_TRUE(huge->empty());
}

TEST_P(AuthConformance, SetPasswordReplacesItAndEndsTheUsersSessions) {
  if (!auth().supports_users()) GTEST_SKIP() << "this plugin stores no users";
  auto u = auth().create_user("dee@example.com", "Dee", "old-password", "user");
  auto other = auth().create_user("eve@example.com", "Eve", "eve-password", "user");
  ASSERT_TRUE(u.ok() && other.ok());
  auto t1 = auth().issue_user_token(u->id, std::chrono::seconds(600));
  auto t2 = auth().issue_user_token(u->id, std::chrono::seconds(600));
  auto t_other = auth().issue_user_token(other->id, std::chrono::seconds(600));
  ASSERT_TRUE(t1.ok() && t2.ok() && t_other.ok());

  ASSERT_TRUE(auth().set_password(u->id, "new-password").ok());
  EXPECT_EQ(auth().check_password("dee@example.com", "old-password").status().code(),
            dfd::Code::kUnauthenticated);
  auto ok = auth().check_password("dee@example.com", "new-password");
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->id, u->id);
  // Every session of that user ended; another user's did not.
  EXPECT_FALSE(auth().verify_user_token(t1->token).ok());
  EXPECT_FALSE(auth().verify_user_token(t2->token).ok());
  EXPECT_TRUE(auth().verify_user_token(t_other->token).ok());
  // A token issued afterwards works.
  auto t3 = auth().issue_user_token(u->id, std::chrono::seconds(600));
  ASSERT_TRUE(t3.ok());
  EXPECT_TRUE(auth().verify_user_token(t3->token).ok());

  EXPECT_EQ(auth().set_password(u->id, "").code(), dfd::Code::kInvalidArgument);
  EXPECT_TRUE(auth().check_password("dee@example.com", "new-password").ok());
  EXPECT_EQ(auth().set_password(987654321, "whatever-1").code(), dfd::Code::kNotFound);

  // The disabled flag stays as it is.
  ASSERT_TRUE(auth().set_user_disabled(u->id, true).ok());
  ASSERT_TRUE(auth().set_password(u->id, "third-password").ok());
  EXPECT_EQ(auth().check_password("dee@example.com", "third-password").status().code(),
            dfd::Code::kPermissionDenied);
  auto d = auth().user_disabled(u->id);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(*d);
}

#endif  // DFD_AUTH_CONFORMANCE_INTERFACE_ONLY
