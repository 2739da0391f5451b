// dfd SDK testing: the conformance suite every digest plugin passes (header-only, GoogleTest).
//
// Use it from ONE test translation unit (the TEST_P definitions live in this header):
//
//   #include "dfd/testing/digest_conformance.hpp"
//
//   class MySubject : public dfd::conformance::DigestSubject { ... };  // a started instance
//   INSTANTIATE_TEST_SUITE_P(Mine, DigestConformance,
//       ::testing::Values(dfd::conformance::DigestCase{"mine", [] { return make_subject(); }}),
//       dfd::conformance::DigestCaseName());
//
// The factory returns a started plugin instance; it is called once per test and the subject is
// destroyed after it. dfd-plugin-check runs this suite against an installed plugin.
//
// What is checked (dfd/digest.hpp): algorithms() is not empty and lists canonical names (lower
// case letters, digits and '-', each once), each of which new_hasher() accepts; the standard
// test vectors ("" and "abc", FIPS 180-4 / FIPS 202 / RFC 7693, and one million 'a' for sha256)
// for each algorithm the plugin claims among sha256, sha512, sha384, sha224, sha3-256, sha3-512
// and blake2b-512; streaming in odd-size pieces equals one shot; final_hex() resets the hasher;
// reset() discards the input so far; digest_size() is half the hex length; an unknown name is
// kNotFound; hashers made and used on four threads at once agree with one made on the test thread.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dfd/digest.hpp"

namespace dfd::conformance {

// One started digest instance under test.
class DigestSubject {
 public:
  virtual ~DigestSubject() = default;
  // The started instance; valid for the subject's lifetime.
  virtual Digest& digest() = 0;
};

using DigestSubjectFactory = std::function<std::unique_ptr<DigestSubject>()>;

struct DigestCase {
  std::string name;  // [A-Za-z0-9_] only: used in the test name
  DigestSubjectFactory make;
};

inline void PrintTo(const DigestCase& c, std::ostream* os) {
  *os << c.name;
}

// Name generator for INSTANTIATE_TEST_SUITE_P.
struct DigestCaseName {
  std::string operator()(const ::testing::TestParamInfo<DigestCase>& info) const {
    return info.param.name;
  }
};

// A known answer: the lower-case hex digest of `input` under `algorithm`.
struct DigestVector {
  const char* algorithm;
  std::string input;
  const char* hex;
};

// The standard vectors of every algorithm this suite knows.
inline const std::vector<DigestVector>& digest_known_answers() {
  static const std::vector<DigestVector> v = {
      {"sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"sha256", std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {"sha512", "",
       "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
       "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
      {"sha512", "abc",
       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
       "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
      {"sha384", "",
       "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
       "274edebfe76f65fbd51ad2f14898b95b"},
      {"sha384", "abc",
       "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
       "8086072ba1e7cc2358baeca134c825a7"},
      {"sha224", "", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"},
      {"sha224", "abc", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
      {"sha3-256", "", "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"},
      {"sha3-256", "abc", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
      {"sha3-512", "",
       "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6"
       "15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26"},
      {"sha3-512", "abc",
       "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
       "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"},
      {"blake2b-512", "",
       "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
       "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"},
      {"blake2b-512", "abc",
       "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
       "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"},
  };
  return v;
}

namespace digest_detail {

// Deterministic bytes (a linear congruential generator), so failures reproduce.
inline std::string bytes(std::size_t n, std::uint32_t seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    s[i] = static_cast<char>(seed >> 24);
  }
  return s;
}

inline bool is_canonical_name(const std::string& n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return n.front() != '-' && n.back() != '-';
}

inline bool is_lower_hex(const std::string& h) {
  return std::all_of(h.begin(), h.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace digest_detail

}  // namespace dfd::conformance

// In the global namespace so that INSTANTIATE_TEST_SUITE_P(Prefix, DigestConformance, ...) works
// without qualification.
class DigestConformance : public ::testing::TestWithParam<dfd::conformance::DigestCase> {
 protected:
  void SetUp() override {
    subject_ = GetParam().make();
    ASSERT_NE(subject_, nullptr) << "the factory made no subject";
    algorithms_ = digest().algorithms();
  }
  void TearDown() override { subject_.reset(); }

  dfd::Digest& digest() { return subject_->digest(); }
  bool claims(const std::string& a) const {
    return std::find(algorithms_.begin(), algorithms_.end(), a) != algorithms_.end();
  }
  // A new hasher for `a`, failing the test (nullptr) when there is none.
  std::unique_ptr<dfd::Hasher> hasher(const std::string& a) {
    auto h = digest().new_hasher(a);
    EXPECT_TRUE(h.ok()) << "new_hasher('" << a << "'): " << h.status().to_string();
    if (!h.ok()) return nullptr;
    EXPECT_NE(h->get(), nullptr) << "new_hasher('" << a << "') returned a null hasher";
    return std::move(h.value());
  }
  std::string one_shot(dfd::Hasher& h, const std::string& input) {
    h.update(input.data(), input.size());
    return h.final_hex();
  }

  std::unique_ptr<dfd::conformance::DigestSubject> subject_;
  std::vector<std::string> algorithms_;
};

// algorithms(): not empty, canonical lower-case names, each once, each accepted by new_hasher().
TEST_P(DigestConformance, AlgorithmsAreCanonicalAndUsable) {
  ASSERT_FALSE(algorithms_.empty()) << "algorithms() is empty";
  std::set<std::string> seen;
  for (const std::string& a : algorithms_) {
    EXPECT_TRUE(dfd::conformance::digest_detail::is_canonical_name(a))
        << "'" << a << "' is not a canonical name (lower-case letters, digits, '-')";
    EXPECT_TRUE(seen.insert(a).second) << "'" << a << "' is listed twice";
    auto h = hasher(a);
    ASSERT_NE(h, nullptr);
  }
}

// The standard vectors of every claimed algorithm this suite knows.
TEST_P(DigestConformance, KnownAnswers) {
  int checked = 0;
  for (const auto& v : dfd::conformance::digest_known_answers()) {
    if (!claims(v.algorithm)) continue;
    auto h = hasher(v.algorithm);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(one_shot(*h, v.input), v.hex)
        << v.algorithm << " of " << v.input.size() << " bytes ("
        << (v.input.size() <= 3 ? "'" + v.input + "'" : std::string("one million 'a'")) << ")";
    ++checked;
  }
  if (checked == 0) {
    GTEST_SKIP() << "no claimed algorithm has known vectors here (sha256, sha512, sha384, "
                    "sha224, sha3-256, sha3-512, blake2b-512)";
  }
}

// Streaming in odd-size pieces (1, 2, 3, 5, 7, ... bytes and one large piece) equals one shot.
TEST_P(DigestConformance, StreamingInOddPiecesEqualsOneShot) {
  const std::string input = dfd::conformance::digest_detail::bytes(200003, 11);
  for (const std::string& a : algorithms_) {
    auto whole = hasher(a);
    auto pieces = hasher(a);
    ASSERT_TRUE(whole && pieces);
    const std::string want = one_shot(*whole, input);
    const std::size_t sizes[] = {1, 2, 3, 5, 7, 11, 13, 63, 64, 65, 127, 129, 1000, 4093, 65537};
    std::size_t off = 0;
    for (std::size_t i = 0; off < input.size(); ++i) {
      std::size_t n = std::min(sizes[i % (sizeof sizes / sizeof sizes[0])], input.size() - off);
      pieces->update(input.data() + off, n);
      off += n;
    }
    pieces->update(input.data(), 0);  // an empty update changes nothing
    EXPECT_EQ(pieces->final_hex(), want) << a;
  }
}

// final_hex() resets: the next input hashes as if the hasher were new.
TEST_P(DigestConformance, FinalHexResetsTheHasher) {
  for (const std::string& a : algorithms_) {
    auto h = hasher(a);
    auto fresh = hasher(a);
    ASSERT_TRUE(h && fresh);
    const std::string empty = fresh->final_hex();
    const std::string abc = one_shot(*fresh, "abc");
    EXPECT_NE(empty, abc) << a;
    one_shot(*h, "first input");
    EXPECT_EQ(one_shot(*h, "abc"), abc) << a << ": final_hex() did not reset";
    EXPECT_EQ(h->final_hex(), empty) << a << ": a final_hex() with no input after final_hex()";
  }
}

// reset() discards the input so far.
TEST_P(DigestConformance, ResetDiscardsInput) {
  for (const std::string& a : algorithms_) {
    auto h = hasher(a);
    auto fresh = hasher(a);
    ASSERT_TRUE(h && fresh);
    const std::string abc = one_shot(*fresh, "abc");
    const std::string junk = dfd::conformance::digest_detail::bytes(5000, 3);
    h->update(junk.data(), junk.size());
    h->reset();
    EXPECT_EQ(one_shot(*h, "abc"), abc) << a << ": reset() kept input";
  }
}

// digest_size() (bytes) is half the length of final_hex(), which is lower-case hex.
TEST_P(DigestConformance, DigestSizeMatchesTheHexLength) {
  for (const std::string& a : algorithms_) {
    auto h = hasher(a);
    ASSERT_NE(h, nullptr);
    const std::size_t size = h->digest_size();
    const std::string hex = one_shot(*h, "abc");
    EXPECT_GT(size, 0u) << a;
    EXPECT_EQ(hex.size(), 2 * size) << a << ": digest_size() " << size << ", hex '" << hex << "'";
    EXPECT_TRUE(dfd::conformance::digest_detail::is_lower_hex(hex)) << a << ": '" << hex << "'";
  }
}

// An algorithm the plugin does not offer is kNotFound.
TEST_P(DigestConformance, UnknownAlgorithmIsNotFound) {
  for (const char* a : {"no-such-hash", "sha256x", "md0"}) {
    if (claims(a)) continue;
    auto h = digest().new_hasher(a);
    ASSERT_FALSE(h.ok()) << "new_hasher('" << a << "') succeeded";
    EXPECT_EQ(h.status().code(), dfd::Code::kNotFound) << a << ": " << h.status().to_string();
  }
}

// new_hasher() from four threads at once; each thread's hashers agree with the test thread's.
TEST_P(DigestConformance, HashersOnFourThreadsAtOnce) {
  const std::string input = dfd::conformance::digest_detail::bytes(30001, 5);
  std::vector<std::string> want;
  for (const std::string& a : algorithms_) {
    auto h = hasher(a);
    ASSERT_NE(h, nullptr);
    want.push_back(one_shot(*h, input));
  }
  std::atomic<int> errors{0}, mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 25; ++round) {
        for (std::size_t i = 0; i < algorithms_.size(); ++i) {
          auto h = digest().new_hasher(algorithms_[i]);
          if (!h.ok() || !*h) {
            ++errors;
            continue;
          }
          std::size_t piece = 1000 + static_cast<std::size_t>(t) * 7;
          for (std::size_t off = 0; off < input.size(); off += piece) {
            (*h)->update(input.data() + off, std::min(piece, input.size() - off));
          }
          if ((*h)->final_hex() != want[i]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0) << "new_hasher() failed on a thread";
  EXPECT_EQ(mismatches.load(), 0) << "hashers on four threads gave different digests";
}
