// Hostile input against the data plane (issue 11): what a client without a valid token can learn
// (nothing about which files are held), and malformed ranges, headers, paths, tokens and
// protocols — each answered with a clean error or a clean close while the server keeps serving.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "data_plane_fixture.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

// Header names of a response, without Date (which differs from one second to the next).
std::set<std::string> header_names(const RawResponse& r) {
  std::set<std::string> names;
  for (const auto& [k, v] : r.headers) {
    if (k != "date") names.insert(k);
  }
  return names;
}

class DataPlaneHostileTest : public DataPlaneTest {
 protected:
  // Both requests (a held file, a file this server does not hold) with the same headers get
  // byte-identical answers (Date aside).
  void expect_same_answer(const std::vector<std::string>& headers, int want,
                          const std::string& what) {
    RawResponse held = exchange(request(uid_, headers));
    RawResponse absent = exchange(request(absent_, headers));
    EXPECT_EQ(held.status, want) << what;
    EXPECT_EQ(absent.status, held.status) << what;
    EXPECT_EQ(absent.body, held.body) << what;
    EXPECT_EQ(header_names(absent), header_names(held)) << what;
    for (const auto& [k, v] : held.headers) {
      if (k != "date") {
        EXPECT_EQ(absent.headers[k], v) << what << ": " << k;
      }
    }
  }
  void expect_still_serving() {
    auto r = exchange(request(uid_, {bearer(token_), "Range: bytes=5-9"}));
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.body, content_.substr(5, 5));
  }
  std::string absent_ = sha256_hex("a file this server does not hold");
};

TEST_F(DataPlaneHostileTest, WithoutAValidTokenHeldAndAbsentFilesLookTheSame) {
  host::DataPlaneOptions o;
  o.token_wait_ms = 0;
  start(o);
  int finds = source_.finds.load();
  expect_same_answer({}, 401, "no token");
  expect_same_answer({"Authorization: Basic dXNlcjpwYXNz"}, 401, "another scheme");
  expect_same_answer({bearer("never-issued")}, 403, "unknown token");
  expect_same_answer({bearer(auth_.grant(other_))}, 403, "a token for another file");
  DownloadTokenRecord rec;
  auto expired = auth_.issue_download_token(uid_, 1, std::chrono::seconds(-5), &rec);
  ASSERT_TRUE(auth_.remember_download_token(rec).ok());
  expect_same_answer({bearer(expired->token)}, 403, "expired token");
  std::string revoked = auth_.grant(uid_);
  ASSERT_TRUE(auth_.revoke_download_token(sha256_hex(revoked)).ok());
  expect_same_answer({bearer(revoked)}, 403, "revoked token");
  expect_same_answer({bearer(std::string(3000, 'x'))}, 403, "huge token");
  expect_same_answer({bearer("\xc3\xa9t\xc3\xa9")}, 403, "non-ASCII token");
  // The index was never asked: the token is checked before the file is looked up.
  EXPECT_EQ(source_.finds.load(), finds);

  // With a token for exactly that file, a server may say that it does not hold it.
  auto r = exchange(request(absent_, {bearer(auth_.grant(absent_))}));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":\"not_found\""), std::string::npos);
  expect_still_serving();
}

TEST_F(DataPlaneHostileTest, ParkingAnUnknownTokenRevealsNothingEither) {
  host::DataPlaneOptions o;
  o.token_wait_ms = 300;  // both requests wait for the token event, then both are refused
  o.threads = 1;
  start(o);
  int finds = source_.finds.load();
  expect_same_answer({bearer("not-yet-known")}, 403, "unknown token after the wait");
  EXPECT_EQ(source_.finds.load(), finds);
  EXPECT_EQ(host_.metric("dfd_content_token_denials_total", {{"reason", "unknown"}}), 2);
}

}  // namespace
}  // namespace dfd::test
