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
  // byte-identical answers (Date and the per-request X-Request-Id aside).
  void expect_same_answer(const std::vector<std::string>& headers, int want,
                          const std::string& what) {
    RawResponse held = exchange(request(uid_, headers));
    RawResponse absent = exchange(request(absent_, headers));
    EXPECT_EQ(held.status, want) << what;
    EXPECT_EQ(absent.status, held.status) << what;
    EXPECT_EQ(absent.body, held.body) << what;
    EXPECT_EQ(header_names(absent), header_names(held)) << what;
    for (const auto& [k, v] : held.headers) {
      if (k != "date" && k != "x-request-id") {
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
  // Issue 15: the one bearer rule (dfd/wire/bearer.hpp): Bearer credentials that are not one
  // b64token are an invalid token; a TAB is not the SP after the scheme (no Bearer credentials).
  expect_same_answer({"Authorization: Bearer never issued"}, 403, "two words after Bearer");
  expect_same_answer({"Authorization: Bearer\tnever-issued"}, 401, "TAB after the scheme");
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

// Malformed, huge, negative and overflowing Range values never fail the request: an invalid
// Range is ignored (200), a satisfiable one is served exactly, an unsatisfiable one is 416.
TEST_F(DataPlaneHostileTest, HostileRangesAreAnsweredByTheBook) {
  start();
  std::string n = std::to_string(content_.size());
  std::string many_overlapping = "bytes=";
  for (int i = 0; i < 1000; ++i) many_overlapping += "0-5,";
  std::string many_distinct = "bytes=";
  for (int i = 0; i < 600; ++i)
    many_distinct += std::to_string(i * 3) + "-" + std::to_string(i * 3) + ",";
  std::string too_many_specs = "bytes=";
  for (int i = 0; i < 1500; ++i) too_many_specs += "1-1,";
  struct Case {
    std::string range;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"bytes=99999999999999999999999999-", 416},
           {"bytes=18446744073709551615-18446744073709551615", 416},
           {"bytes=18446744073709551616-", 416},
           {"bytes=0-99999999999999999999999999", 206},
           {"bytes=-99999999999999999999999999", 206},
           {"bytes=-0", 416},
           {"bytes=--5", 200},
           {"bytes=-5-3", 200},
           {"bytes=5--3", 200},
           {"bytes=+5-6", 200},
           {"bytes=0x10-0x20", 200},
           {"bytes=", 200},
           {"bytes", 200},
           {"items=0-1", 200},
           {"bytes=1-0", 200},
           {"bytes=0-1,,,,,,", 206},
           {"bytes = 0-1", 200},
           {"BYTES=0-1", 206},
           {"bytes=0-1;q=2", 200},
           {many_overlapping, 206},
           {many_distinct, 200},  // more than max_ranges after coalescing → the whole file
           {too_many_specs, 200},
       }) {
    auto r = exchange(request(uid_, {bearer(token_), "Range: " + c.range}));
    std::string what = c.range.substr(0, 60);
    ASSERT_TRUE(r.ok) << what;
    EXPECT_EQ(r.status, c.status) << what;
    EXPECT_EQ(r.headers["content-length"], std::to_string(r.body.size())) << what;
    if (r.status == 200) {
      EXPECT_EQ(r.body, content_) << what;
    }
    if (r.status == 416) {
      EXPECT_EQ(r.headers["content-range"], "bytes */" + n) << what;
    }
  }
  expect_still_serving();
}

// Everything else a hostile client may send: each case gets a clean 4xx (505 for another HTTP
// version) or a clean close, never a hang or a crash, and the server keeps serving.
TEST_F(DataPlaneHostileTest, HostileRequestsGetACleanErrorOrClose) {
  host::DataPlaneOptions o;
  o.token_wait_ms = 0;
  start(o);
  std::string get = "GET /v1/content/" + uid_ + " HTTP/1.1\r\n";
  std::string auth = bearer(token_) + "\r\n";
  std::mt19937 rng(11);
  std::string garbage(4096, '\0');
  for (auto& ch : garbage) ch = static_cast<char>(rng());
  std::string tls_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  tls_hello += std::string(500, '\x42');
  std::string many_headers = get + auth;
  for (int i = 0; i < 2000; ++i) many_headers += "X: y\r\n";
  struct Case {
    std::string name, bytes;
    bool served = false;  // a GET with a body is served, then the connection closes
  };
  std::vector<Case> cases = {
      // Headers.
      {"two Authorization fields", get + auth + auth + "\r\n"},
      {"oversized header", get + auth + "X-Big: " + std::string(10000, 'a') + "\r\n\r\n"},
      {"too many headers", many_headers + "\r\n"},
      {"space before colon", get + "Range : bytes=0-0\r\n" + auth + "\r\n"},
      {"obs-fold", get + auth + "X-A: b\r\n c\r\n\r\n"},
      {"no colon", get + auth + "NoColonHere\r\n\r\n"},
      {"bare CR in a value", get + auth + "X-A: b\rc\r\n\r\n"},
      {"NUL in a value", get + auth + std::string("X-A: b\0c\r\n\r\n", 12)},
      {"negative Content-Length", get + auth + "Content-Length: -1\r\n\r\n"},
      {"huge Content-Length", get + auth + "Content-Length: 99999999999999999999999\r\n\r\n"},
      {"chunked body", get + auth + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       true},
      {"body", get + auth + "Content-Length: 5\r\n\r\nhello", true},
      // Paths.
      {"dot-dot path", "GET /v1/content/../../etc/passwd HTTP/1.1\r\n" + auth + "\r\n"},
      {"encoded dot-dot",
       "GET /v1/content/%2e%2e%2f%2e%2e%2fetc%2fpasswd HTTP/1.1\r\n" + auth + "\r\n"},
      {"encoded NUL", "GET /v1/content/%00 HTTP/1.1\r\n" + auth + "\r\n"},
      {"raw NUL in the target",
       std::string("GET /v1/content/a\0b HTTP/1.1\r\n", 31) + auth + "\r\n"},
      {"long path", "GET /v1/content/" + std::string(6000, 'a') + " HTTP/1.1\r\n" + auth + "\r\n"},
      {"very long path", "GET /v1/content/" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n"},
      {"bad escape", "GET /v1/content/%zz% HTTP/1.1\r\n" + auth + "\r\n"},
      {"other endpoint", "GET /etc/passwd HTTP/1.1\r\n" + auth + "\r\n"},
      {"asterisk target", "OPTIONS * HTTP/1.1\r\n\r\n"},
      {"DELETE", "DELETE /v1/content/" + uid_ + " HTTP/1.1\r\n" + auth + "\r\n"},
      // Tokens.
      {"empty token", get + "Authorization: Bearer\r\n\r\n"},
      {"huge token", get + "Authorization: Bearer " + std::string(7000, 'A') + "\r\n\r\n"},
      {"non-ASCII token", get + "Authorization: Bearer \xff\xfe\x80\xc3\xa9\r\n\r\n"},
      {"token with a space", get + "Authorization: Bearer abc def\r\n\r\n"},
      {"token with a NUL", get + std::string("Authorization: Bearer ab\0cd\r\n\r\n", 32)},
      {"token of padding only", get + "Authorization: Bearer ====\r\n\r\n"},
      // Protocols and garbage.
      {"HTTP/0.9", "GET /v1/content/" + uid_ + "\r\n\r\n"},
      {"HTTP/2 preface", std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")},
      {"HTTP/3.0", "GET /v1/content/" + uid_ + " HTTP/3.0\r\n" + auth + "\r\n"},
      {"lower-case version", "GET /v1/content/" + uid_ + " http/1.1\r\n" + auth + "\r\n"},
      {"TLS ClientHello", tls_hello},
      {"random bytes", garbage},
      {"only line breaks", std::string(10000, '\n')},
      {"double space", "GET  /v1/content/" + uid_ + " HTTP/1.1\r\n" + auth + "\r\n"},
  };
  for (const Case& c : cases) {
    bool closed = false;
    if (c.served) {
      RawClient client(plane_->port());
      client.send_all(c.bytes);
      RawResponse r = client.read_response();
      EXPECT_EQ(r.status, 200) << c.name;
      EXPECT_EQ(r.headers["connection"], "close") << c.name;
      EXPECT_TRUE(client.closed_by_peer()) << c.name;
      continue;
    }
    RawResponse r = exchange(c.bytes, &closed, 3000);
    if (r.ok) {
      bool clean = (r.status >= 400 && r.status < 500) || r.status == 505;
      EXPECT_TRUE(clean) << c.name << ": " << r.status;
      EXPECT_NE(r.body.find("{\"error\":{\"code\":"), std::string::npos) << c.name;
      EXPECT_EQ(r.headers["content-type"], "application/json") << c.name;
    } else {
      EXPECT_TRUE(closed) << c.name << ": neither a response nor a close";
    }
  }
  expect_still_serving();
  EXPECT_EQ(plane_->running(), true);
}

}  // namespace
}  // namespace dfd::test
