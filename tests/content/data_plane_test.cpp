// End-to-end tests of the data plane over real loopback HTTP (libcurl and raw sockets), with an
// in-memory token store and a map of real files as doubles for the auth plugin and the index.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "data_plane_fixture.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

TEST_F(DataPlaneTest, FullBodyWithoutRange) {
  start();
  auto r = get(uid_, {bearer(token_)});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, content_);
  EXPECT_EQ(r.headers["content-length"], std::to_string(content_.size()));
  EXPECT_EQ(r.headers["accept-ranges"], "bytes");
  EXPECT_EQ(r.headers["etag"], "\"" + uid_ + "\"");
  EXPECT_EQ(r.headers["content-type"], "application/octet-stream");
  EXPECT_EQ(r.headers["cache-control"], "private");
  EXPECT_EQ(r.headers["content-disposition"], "attachment; filename=\"movie.bin\"");
  EXPECT_EQ(r.headers["repr-digest"], host::repr_digest_value("sha256", uid_));
  EXPECT_FALSE(r.headers["date"].empty());
}

TEST_F(DataPlaneTest, SingleRangesAreExact) {
  start();
  struct Case {
    std::string range;
    std::uint64_t first, last;
  };
  std::uint64_t n = content_.size();
  for (const Case& c :
       {Case{"bytes=0-0", 0, 0}, Case{"bytes=-1", n - 1, n - 1}, Case{"bytes=1000-", 1000, n - 1},
        Case{"bytes=4096-8191", 4096, 8191}, Case{"bytes=1000-99999999", 1000, n - 1}}) {
    auto r = get(uid_, {bearer(token_), "Range: " + c.range});
    ASSERT_EQ(r.status, 206) << c.range;
    EXPECT_EQ(r.body, content_.substr(c.first, c.last - c.first + 1)) << c.range;
    EXPECT_EQ(r.headers["content-range"], "bytes " + std::to_string(c.first) + "-" +
                                              std::to_string(c.last) + "/" + std::to_string(n));
    EXPECT_EQ(r.headers["content-length"], std::to_string(c.last - c.first + 1));
  }
}

TEST_F(DataPlaneTest, UnsatisfiableIs416) {
  start();
  auto r = get(uid_, {bearer(token_), "Range: bytes=" + std::to_string(content_.size()) + "-"});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.headers["content-range"], "bytes */" + std::to_string(content_.size()));
  EXPECT_NE(r.body.find("\"code\":\"range_not_satisfiable\""), std::string::npos);
}

TEST_F(DataPlaneTest, InvalidRangeAndTooManyRangesServeFull) {
  start();
  auto r = get(uid_, {bearer(token_), "Range: bytes=9-1"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), content_.size());
  std::string many = "Range: bytes=";
  for (int i = 0; i < 17; ++i)
    many += std::to_string(i * 100) + "-" + std::to_string(i * 100 + 1) + ",";
  r = get(uid_, {bearer(token_), many});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, content_);
}

TEST_F(DataPlaneTest, HeadHasLengthAndNoBody) {
  start();
  auto r = get(uid_, {bearer(token_)}, "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], std::to_string(content_.size()));
  EXPECT_TRUE(r.body.empty());
  r = get(uid_, {bearer(token_), "Range: bytes=10-19"}, "HEAD");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.headers["content-length"], "10");
  // Raw: a HEAD response really carries no body (the next response follows directly).
  RawClient c(plane_->port());
  c.send_all("HEAD /v1/content/" + uid_ + " HTTP/1.1\r\nHost: x\r\n" + bearer(token_) +
             "\r\n\r\nGET /v1/content/" + uid_ + " HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n" +
             bearer(token_) + "\r\n\r\n");
  auto h = c.read_response(true);
  EXPECT_EQ(h.status, 200);
  auto g = c.read_response();
  EXPECT_EQ(g.status, 206);
  EXPECT_EQ(g.body, content_.substr(0, 4));
}

TEST_F(DataPlaneTest, IfRange) {
  start();
  auto r = get(uid_, {bearer(token_), "Range: bytes=0-9", "If-Range: \"stale\""});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), content_.size());
  r = get(uid_, {bearer(token_), "Range: bytes=0-9", "If-Range: Tue, 24 Nov 2026 10:00:00 GMT"});
  EXPECT_EQ(r.status, 200);
  r = get(uid_, {bearer(token_), "Range: bytes=0-9", "If-Range: W/\"" + uid_ + "\""});
  EXPECT_EQ(r.status, 200);
  r = get(uid_, {bearer(token_), "Range: bytes=0-9", "If-Range: \"" + uid_ + "\""});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content_.substr(0, 10));
}

TEST_F(DataPlaneTest, MultipartByteranges) {
  start();
  auto r = get(uid_, {bearer(token_), "Range: bytes=100-199, 0-9, 5-14, -10"});
  ASSERT_EQ(r.status, 206);
  std::string ct = r.headers["content-type"];
  ASSERT_EQ(ct.rfind("multipart/byteranges; boundary=", 0), 0u) << ct;
  std::string boundary = ct.substr(ct.find('=') + 1);
  EXPECT_EQ(r.headers["content-length"], std::to_string(r.body.size()));
  EXPECT_EQ(r.headers.count("content-range"), 0u);
  // Parse the parts.
  std::vector<std::pair<std::string, std::string>> parts;  // content-range, data
  std::string delim = "--" + boundary;
  std::size_t pos = r.body.find(delim);
  ASSERT_EQ(pos, 0u);
  while (true) {
    pos += delim.size();
    if (r.body.compare(pos, 2, "--") == 0) break;
    ASSERT_EQ(r.body.compare(pos, 2, "\r\n"), 0);
    std::size_t hend = r.body.find("\r\n\r\n", pos);
    std::string heads = r.body.substr(pos + 2, hend - pos - 2);
    std::size_t next = r.body.find("\r\n" + delim, hend + 4);
    ASSERT_NE(next, std::string::npos);
    auto cr = heads.find("Content-Range: ");
    ASSERT_NE(cr, std::string::npos);
    std::string range = heads.substr(cr + 15, heads.find("\r\n", cr) - cr - 15);
    parts.push_back({range, r.body.substr(hend + 4, next - hend - 4)});
    pos = next + 2;
  }
  std::string n = std::to_string(content_.size());
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].first, "bytes 0-14/" + n);
  EXPECT_EQ(parts[0].second, content_.substr(0, 15));
  EXPECT_EQ(parts[1].first, "bytes 100-199/" + n);
  EXPECT_EQ(parts[1].second, content_.substr(100, 100));
  EXPECT_EQ(parts[2].first, "bytes " + std::to_string(content_.size() - 10) + "-" +
                                std::to_string(content_.size() - 1) + "/" + n);
  EXPECT_EQ(parts[2].second, content_.substr(content_.size() - 10));
  EXPECT_EQ(r.body.substr(r.body.size() - delim.size() - 4), delim + "--\r\n");
}

TEST_F(DataPlaneTest, AuthErrorsAreJson) {
  start(host::DataPlaneOptions{"", 1, 0});
  auto r = get(uid_);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_NE(r.body.find("{\"error\":{\"code\":\"unauthenticated\",\"message\":"),
            std::string::npos);
  EXPECT_EQ(get(uid_, {"Authorization: Basic dXNlcjpwYXNz"}).status, 401);
  EXPECT_EQ(get(uid_, {"Authorization: Bearer "}).status, 401);

  // A token for another file.
  r = get(uid_, {bearer(auth_.grant(other_)), "Range: bytes=0-0"});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("\"code\":\"permission_denied\""), std::string::npos);
  EXPECT_NE(r.body.find("wrong_scope"), std::string::npos);
  // Expired.
  DownloadTokenRecord rec;
  auto t = auth_.issue_download_token(uid_, 1, std::chrono::seconds(-5), &rec);
  ASSERT_TRUE(auth_.remember_download_token(rec).ok());
  r = get(uid_, {bearer(t->token)});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("expired"), std::string::npos);
  // Revoked.
  std::string revoked = auth_.grant(uid_);
  ASSERT_TRUE(auth_.revoke_download_token(sha256_hex(revoked)).ok());
  EXPECT_EQ(get(uid_, {bearer(revoked)}).status, 403);
  // Unknown (token_wait_ms = 0: no wait).
  EXPECT_EQ(get(uid_, {bearer("never-issued")}).status, 403);
  // The token is checked before the range: a bad token with a bad range is 403, not 416.
  EXPECT_EQ(get(uid_, {bearer("never-issued"), "Range: bytes=99999999-"}).status, 403);
  EXPECT_EQ(host_.metric("dfd_content_token_denials_total", {{"reason", "missing"}}), 3);
  EXPECT_EQ(host_.metric("dfd_content_token_denials_total", {{"reason", "wrong_scope"}}), 1);
  EXPECT_EQ(host_.metric("dfd_content_token_denials_total", {{"reason", "unknown"}}), 2);
  // Still healthy.
  EXPECT_EQ(get(uid_, {bearer(token_), "Range: bytes=0-0"}).status, 206);
}

TEST_F(DataPlaneTest, RevocationAppliesDespiteRememberedVerdicts) {
  host::DataPlaneOptions o;
  o.threads = 1;
  start(o);
  RawClient c(plane_->port());
  std::string req =
      "GET /v1/content/" + uid_ + " HTTP/1.1\r\n" + bearer(token_) + "\r\nRange: bytes=0-0\r\n\r\n";
  c.send_all(req);
  EXPECT_EQ(c.read_response().status, 206);
  c.send_all(req);
  EXPECT_EQ(c.read_response().status, 206);
  int calls = auth_.verifications.load();
  c.send_all(req);
  EXPECT_EQ(c.read_response().status, 206);
  EXPECT_EQ(auth_.verifications.load(), calls);  // remembered: the plugin was not asked again
  ASSERT_TRUE(auth_.revoke_download_token(sha256_hex(token_)).ok());
  plane_->notify_tokens_changed();  // what the service does after applying token.revoked
  std::this_thread::sleep_for(50ms);
  c.send_all(req);
  auto r = c.read_response();
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("revoked"), std::string::npos);
}

TEST_F(DataPlaneTest, EmptyFile) {
  std::string uid = sha256_hex("");
  write_file(dir_.file("empty.bin"), "");
  source_.add(uid, dir_.file("empty.bin"), "empty.bin", 0);
  start();
  std::string tok = auth_.grant(uid);
  auto r = get(uid, {bearer(tok)});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], "0");
  EXPECT_TRUE(r.body.empty());
  r = get(uid, {bearer(tok), "Range: bytes=0-0"});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.headers["content-range"], "bytes */0");
  r = get(uid, {bearer(tok), "Range: bytes=-1"});
  EXPECT_EQ(r.status, 416);
}

TEST_F(DataPlaneTest, UnknownUidsAndPathsAre404) {
  start();
  // A uid is only looked up, never used as a path. Only a token valid for exactly that uid may
  // learn that the server does not hold it (any other token: 403, see data_plane_hostile_test).
  struct Case {
    std::string raw, uid;
  };
  for (const Case& c : std::vector<Case>{{"%2e%2e%2f%2e%2e%2fetc%2fpasswd", "../../etc/passwd"},
                                         {"..%2F..%2Fetc", "../../etc"},
                                         {"nope", "nope"},
                                         {uid_ + "x", uid_ + "x"},
                                         {"%00", std::string(1, '\0')}}) {
    auto r = http("GET", base_ + "/v1/content/" + c.raw, {bearer(auth_.grant(c.uid))});
    EXPECT_EQ(r.status, 404) << c.raw;
    EXPECT_NE(r.body.find("\"code\":\"not_found\""), std::string::npos) << c.raw;
    EXPECT_EQ(http("GET", base_ + "/v1/content/" + c.raw, {bearer(token_)}).status, 403) << c.raw;
  }
  // A malformed escape names no file on any server.
  EXPECT_EQ(http("GET", base_ + "/v1/content/%zz", {bearer(token_)}).status, 404);
  EXPECT_EQ(http("GET", base_ + "/v1/other", {bearer(token_)}).status, 404);
  EXPECT_EQ(http("GET", base_ + "/v1/content/", {bearer(token_)}).status, 404);
  // curl normalises "../": send it raw.
  RawClient c(plane_->port());
  c.send_all("GET /v1/content/../../etc/passwd HTTP/1.1\r\nHost: x\r\n" +
             bearer(auth_.grant("../../etc/passwd")) + "\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 404);
  c.send_all("GET /v1/content/../../etc/passwd HTTP/1.1\r\nHost: x\r\n" + bearer(token_) +
             "\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 403);
  auto r = http("POST", base_ + "/v1/content/" + uid_, {bearer(token_)}, "x");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD");
  EXPECT_EQ(get(uid_, {bearer(token_), "Range: bytes=0-0"}).status, 206);
}

TEST_F(DataPlaneTest, KeepAliveAndPipelining) {
  start();
  RawClient c(plane_->port());
  ASSERT_TRUE(c.connected());
  std::string req = "GET /v1/content/" + uid_ + " HTTP/1.1\r\nHost: x\r\n" + bearer(token_) +
                    "\r\nRange: bytes=0-9\r\n\r\n";
  ASSERT_TRUE(c.send_all(req));
  auto a = c.read_response();
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.status, 206);
  EXPECT_EQ(a.headers.count("connection"), 0u);
  ASSERT_TRUE(c.send_all(req));  // same connection, no Connection header
  auto b = c.read_response();
  ASSERT_TRUE(b.ok);
  EXPECT_EQ(b.body, content_.substr(0, 10));
  // Pipelined: three requests in one write, answered in order.
  std::string r1 =
      "GET /v1/content/" + uid_ + " HTTP/1.1\r\n" + bearer(token_) + "\r\nRange: bytes=1-1\r\n\r\n";
  std::string r2 = "GET /v1/nowhere HTTP/1.1\r\n\r\n";
  std::string r3 =
      "GET /v1/content/" + uid_ + " HTTP/1.1\r\n" + bearer(token_) + "\r\nRange: bytes=2-3\r\n\r\n";
  ASSERT_TRUE(c.send_all(r1 + r2 + r3));
  auto p1 = c.read_response(), p2 = c.read_response(), p3 = c.read_response();
  EXPECT_EQ(p1.body, content_.substr(1, 1));
  EXPECT_EQ(p2.status, 404);
  EXPECT_EQ(p3.body, content_.substr(2, 2));
  // Connection: close is honoured.
  ASSERT_TRUE(c.send_all("GET /v1/content/" + uid_ + " HTTP/1.1\r\n" + bearer(token_) +
                         "\r\nRange: bytes=0-0\r\nConnection: close\r\n\r\n"));
  auto last = c.read_response();
  EXPECT_EQ(last.headers["connection"], "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(DataPlaneTest, Http10ClosesUnlessKeepAlive) {
  start();
  RawClient a(plane_->port());
  a.send_all("GET /v1/content/" + uid_ + " HTTP/1.0\r\n" + bearer(token_) +
             "\r\nRange: bytes=0-0\r\n\r\n");
  EXPECT_EQ(a.read_response().status, 206);
  EXPECT_TRUE(a.closed_by_peer());
  RawClient b(plane_->port());
  std::string req = "GET /v1/content/" + uid_ + " HTTP/1.0\r\nConnection: keep-alive\r\n" +
                    bearer(token_) + "\r\nRange: bytes=0-0\r\n\r\n";
  b.send_all(req);
  auto r = b.read_response();
  EXPECT_EQ(r.headers["connection"], "keep-alive");
  b.send_all(req);
  EXPECT_EQ(b.read_response().status, 206);
}

TEST_F(DataPlaneTest, OversizedAndMalformedRequests) {
  start();
  RawClient a(plane_->port());
  a.send_all("GET /v1/content/" + uid_ + " HTTP/1.1\r\nX-Big: " + std::string(10000, 'a') +
             "\r\n\r\n");
  auto r = a.read_response();
  EXPECT_EQ(r.status, 431);
  EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  EXPECT_TRUE(a.closed_by_peer());
  RawClient b(plane_->port());
  b.send_all("HELLO\r\n\r\n");
  EXPECT_EQ(b.read_response().status, 400);
  EXPECT_TRUE(b.closed_by_peer());
  EXPECT_EQ(get(uid_, {bearer(token_), "Range: bytes=0-0"}).status, 206);
}

TEST_F(DataPlaneTest, TokenArrivingWithinTheWaitIsAccepted) {
  host::DataPlaneOptions o;
  o.token_wait_ms = 3000;
  o.threads = 1;
  start(o);
  DownloadTokenRecord rec;
  auto t = auth_.issue_download_token(uid_, 1, std::chrono::seconds(60), &rec);
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    (void)auth_.remember_download_token(rec);
    plane_->notify_tokens_changed();
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = get(uid_, {bearer(t->token), "Range: bytes=0-9"});
  auto took = std::chrono::steady_clock::now() - t0;
  later.join();
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, content_.substr(0, 10));
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2500ms);
}

TEST_F(DataPlaneTest, UnknownTokenIs403AfterTheWait) {
  host::DataPlaneOptions o;
  o.token_wait_ms = 1500;
  o.threads = 1;
  start(o);
  // While one request waits, the loop keeps serving others (the wait holds no thread).
  std::thread waiting([&] {
    auto t0 = std::chrono::steady_clock::now();
    auto r = get(uid_, {bearer("not-yet-known")});
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("unknown"), std::string::npos);
    EXPECT_GE(took, 1450ms);
    EXPECT_LT(took, 3500ms);
  });
  std::this_thread::sleep_for(100ms);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(get(uid_, {bearer(token_), "Range: bytes=0-0"}).status, 206);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  waiting.join();
}

TEST_F(DataPlaneTest, ReadAtFallbackWithoutDescriptor) {
  std::string big = pattern(3 * 256 * 1024 + 123, 9);
  std::string uid = sha256_hex(big);
  write_file(dir_.file("nofd.bin"), big);
  source_.add(uid, dir_.file("nofd.bin"), "nofd.bin", big.size(), /*expose_fd=*/false);
  start();
  std::string tok = auth_.grant(uid);
  auto r = get(uid, {bearer(tok)});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, big);
  r = get(uid, {bearer(tok), "Range: bytes=262000-600000"});
  ASSERT_EQ(r.status, 206);
  EXPECT_EQ(r.body, big.substr(262000, 600000 - 262000 + 1));
  r = get(uid, {bearer(tok), "Range: bytes=0-1,300000-300001"});
  EXPECT_EQ(r.status, 206);
  EXPECT_NE(r.body.find(big.substr(300000, 2)), std::string::npos);
}

TEST_F(DataPlaneTest, FileOver4GiB) {
  const std::uint64_t size = (5ull << 30) + 4096;
  std::string path = dir_.file("sparse.bin");
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  const std::string marker = "dfd-marker-beyond-4GiB";
  const std::uint64_t at = 5ull << 30;
  ASSERT_EQ(::pwrite(fd, marker.data(), marker.size(), static_cast<off_t>(at)),
            static_cast<ssize_t>(marker.size()));
  ::close(fd);
  std::string uid(64, 'e');
  source_.add(uid, path, "sparse.bin", size);
  start();
  std::string tok = auth_.grant(uid);
  auto r = get(uid, {bearer(tok), "Range: bytes=" + std::to_string(at - 2) + "-" +
                                      std::to_string(at + marker.size() - 1)});
  ASSERT_EQ(r.status, 206);
  EXPECT_EQ(r.body, std::string(2, '\0') + marker);
  EXPECT_EQ(r.headers["content-range"], "bytes " + std::to_string(at - 2) + "-" +
                                            std::to_string(at + marker.size() - 1) + "/" +
                                            std::to_string(size));
  r = get(uid, {bearer(tok)}, "HEAD");
  EXPECT_EQ(r.headers["content-length"], std::to_string(size));
  r = get(uid, {bearer(tok), "Range: bytes=-10"});
  EXPECT_EQ(r.headers["content-range"], "bytes " + std::to_string(size - 10) + "-" +
                                            std::to_string(size - 1) + "/" + std::to_string(size));
}

TEST_F(DataPlaneTest, AbortedTransfersLeakNoDescriptors) {
  std::string big = pattern(8 << 20, 3);
  std::string uid = sha256_hex(big);
  write_file(dir_.file("abort.bin"), big);
  source_.add(uid, dir_.file("abort.bin"), "abort.bin", big.size());
  host::DataPlaneOptions o;
  o.threads = 1;  // one loop: one cached descriptor for the file
  start(o);
  std::string tok = auth_.grant(uid);
  get(uid, {bearer(tok), "Range: bytes=0-0"});  // warm the open-file cache
  ASSERT_TRUE(wait_no_connections());           // the warm-up's socket is not counted in `before`
  int before = count_fds();
  for (int i = 0; i < 20; ++i) {
    RawClient c(plane_->port(), 4096);
    c.send_all("GET /v1/content/" + uid + " HTTP/1.1\r\n" + bearer(tok) + "\r\n\r\n");
    std::this_thread::sleep_for(5ms);
  }  // each client closes with unread data → RST mid-transfer
  EXPECT_TRUE(wait_no_connections());
  EXPECT_EQ(count_fds(), before);
  EXPECT_EQ(get(uid, {bearer(tok), "Range: bytes=0-0"}).status, 206);
}

TEST_F(DataPlaneTest, StalledReaderCostsNothingAndSlowsNobody) {
  std::string big = pattern(64 << 20, 5);
  std::string uid = sha256_hex(big);
  write_file(dir_.file("big.bin"), big);
  source_.add(uid, dir_.file("big.bin"), "big.bin", big.size());
  host::DataPlaneOptions o;
  o.threads = 1;  // the stalled connection and the download share one loop thread
  start(o);
  std::string tok = auth_.grant(uid);

  auto timed = [&] {
    auto t0 = std::chrono::steady_clock::now();
    auto r = get(uid, {bearer(tok)});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), big.size());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double alone = timed();

  RawClient stalled(plane_->port(), 8192);  // never reads
  ASSERT_TRUE(
      stalled.send_all("GET /v1/content/" + uid + " HTTP/1.1\r\n" + bearer(tok) + "\r\n\r\n"));
  std::this_thread::sleep_for(200ms);
  double with_stall = timed();
  EXPECT_LT(with_stall, alone * 2 + 0.5)
      << "alone " << alone << " s, with a stalled client " << with_stall << " s";
  EXPECT_GE(plane_->active_connections(), 1);  // the stalled one is still open

  double c0 = cpu_seconds();
  std::this_thread::sleep_for(1s);
  double used = cpu_seconds() - c0;
  EXPECT_LT(used, 0.1) << "CPU seconds used in 1 s while a client is stalled";
}

TEST_F(DataPlaneTest, SendTimeoutDropsStalledClient) {
  std::string big = pattern(16 << 20, 6);
  std::string uid = sha256_hex(big);
  write_file(dir_.file("t.bin"), big);
  source_.add(uid, dir_.file("t.bin"), "t.bin", big.size());
  host::DataPlaneOptions o;
  o.send_timeout_s = 1;
  o.idle_timeout_s = 1;
  start(o);
  std::string tok = auth_.grant(uid);
  RawClient stalled(plane_->port(), 8192);
  stalled.send_all("GET /v1/content/" + uid + " HTTP/1.1\r\n" + bearer(tok) + "\r\n\r\n");
  RawClient idle(plane_->port());
  // Both are admitted (whenever the loop gets to them on a loaded machine), then both dropped.
  std::int64_t seen = 0;
  for (int i = 0; i < 200 && seen < 2; ++i) {
    seen = std::max(seen, plane_->active_connections());
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(seen, 2);
  EXPECT_TRUE(wait_no_connections());
}

TEST_F(DataPlaneTest, TricklingHeadIsDropped) {
  host::DataPlaneOptions o;
  o.idle_timeout_s = 1;
  start(o);
  RawClient c(plane_->port());
  std::string head = "GET /v1/content/" + uid_ + " HTTP/1.1\r\nX-Slow: ";
  ASSERT_TRUE(c.send_all(head));
  auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    closed = !c.send_all(std::string(1, 'a')) || c.closed_by_peer(100);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
}

TEST_F(DataPlaneTest, MetricsAndParallelClients) {
  host::DataPlaneOptions o;
  o.threads = 1;  // FakeHost counters are not atomic across threads
  start(o);
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    ts.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        std::uint64_t a = static_cast<std::uint64_t>(i * 1000 + j * 10);
        auto r = get(uid_, {bearer(token_),
                            "Range: bytes=" + std::to_string(a) + "-" + std::to_string(a + 99)});
        if (r.status == 206 && r.body == content_.substr(a, 100)) ++ok;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(host_.metric("dfd_content_responses_total", {{"status", "206"}}), 80);
  // Bytes are counted when a response completes, which may be just after the client has them.
  for (int i = 0; i < 50 && host_.metric("dfd_content_bytes_sent_total") < 8000; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(host_.metric("dfd_content_bytes_sent_total"), 8000);
  EXPECT_LE(source_.opens.load(), 2);  // the open-file cache
}

TEST_F(DataPlaneTest, StopWithGraceFinishesAndCloses) {
  start();
  RawClient idle(plane_->port());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(plane_->active_connections(), 1);
  auto t0 = std::chrono::steady_clock::now();
  plane_->stop(2000);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);  // idle connections do not hold it
  EXPECT_TRUE(idle.closed_by_peer(1000));
  EXPECT_FALSE(plane_->running());
  RawClient after(plane_->port());
  EXPECT_FALSE(after.connected());
}

}  // namespace
}  // namespace dfd::test
