// Issue 14 (observe): the data plane's access log and X-Request-Id, in process over real loopback
// sockets (data_plane_fixture.hpp): one JSON line per answered request, with the id the client
// sent (or the one the server made, echoed in the response), never the token or the query.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "data_plane_fixture.hpp"

namespace dfd::test {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;

std::vector<json> read_lines(const std::string& path) {
  std::vector<json> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

const json* by_id(const std::vector<json>& lines, const std::string& id) {
  for (const auto& j : lines) {
    if (j["request_id"] == id) return &j;
  }
  return nullptr;
}

class AccessLogTest : public DataPlaneTest {
 protected:
  void start_logging() {
    host::DataPlaneOptions o;
    o.access_log = log_path_;
    start(o);
  }
  // Stops the plane: every line it made is written when stop() returns.
  std::vector<json> stop_and_read() {
    plane_->stop(1000);
    return read_lines(log_path_);
  }
  std::string log_path_ = dir_.file("access.log");
};

TEST_F(AccessLogTest, OneLinePerRequestWithTheClientsRequestIdAndNoSecrets) {
  start_logging();
  auto r = http("GET", base_ + "/v1/content/" + uid_ + "?token=QUERY-SECRET&x=1",
                {bearer(token_), "Range: bytes=100-4195", "X-Request-Id: client-id.1"});
  ASSERT_EQ(r.status, 206) << r.error;
  EXPECT_EQ(r.headers["x-request-id"], "client-id.1");
  r = get(uid_, {"X-Request-Id: no-token"});
  ASSERT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["x-request-id"], "no-token");
  r = get(uid_, {bearer(token_), "X-Request-Id: head-1"}, "HEAD");
  ASSERT_EQ(r.status, 200);
  r = get(other_, {bearer(token_), "X-Request-Id: wrong-scope"});
  ASSERT_EQ(r.status, 403);

  auto lines = stop_and_read();
  ASSERT_EQ(lines.size(), 4u) << read_file(log_path_);
  const json* ok = by_id(lines, "client-id.1");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ((*ok)["method"], "GET");
  EXPECT_EQ((*ok)["path"], "/v1/content/" + uid_);
  EXPECT_EQ((*ok)["status"], 206);
  EXPECT_EQ((*ok)["bytes"], 4096);
  EXPECT_EQ((*ok)["complete"], true);
  EXPECT_EQ((*ok)["remote"], "127.0.0.1");
  EXPECT_EQ((*ok)["file_id"], uid_);
  EXPECT_EQ((*ok)["file_name"], "videos/movie.bin");
  EXPECT_GE((*ok)["duration_ms"].get<double>(), 0.0);
  EXPECT_THAT(
      (*ok)["time"].get<std::string>(),
      MatchesRegex(
          "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}"));

  const json* denied = by_id(lines, "no-token");
  ASSERT_NE(denied, nullptr);
  EXPECT_EQ((*denied)["status"], 401);
  EXPECT_EQ((*denied)["bytes"], 0);
  EXPECT_FALSE(denied->contains("file_id"));  // nothing about files without a valid token
  const json* head = by_id(lines, "head-1");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ((*head)["method"], "HEAD");
  EXPECT_EQ((*head)["bytes"], 0);
  const json* scope = by_id(lines, "wrong-scope");
  ASSERT_NE(scope, nullptr);
  EXPECT_EQ((*scope)["status"], 403);
  EXPECT_FALSE(scope->contains("file_id"));

  std::string text = read_file(log_path_);
  EXPECT_THAT(text, Not(HasSubstr(token_)));
  EXPECT_THAT(text, Not(HasSubstr("QUERY-SECRET")));
  EXPECT_THAT(text, Not(HasSubstr("?")));
  struct stat st {};
  ASSERT_EQ(::stat(log_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(AccessLogTest, AnInvalidOrMissingRequestIdIsReplacedAndEchoed) {
  start_logging();
  std::vector<std::string> given = {"", "bad id!", std::string(65, 'a'), "a\"b"};
  std::vector<std::string> echoed;
  for (const auto& g : given) {
    std::vector<std::string> h = {bearer(token_), "Range: bytes=0-0"};
    if (!g.empty()) h.push_back("X-Request-Id: " + g);
    auto r = get(uid_, h);
    ASSERT_EQ(r.status, 206);
    EXPECT_THAT(r.headers["x-request-id"], MatchesRegex("[0-9a-f]{16}")) << g;
    echoed.push_back(r.headers["x-request-id"]);
  }
  // Malformed requests get an id too.
  RawResponse bad = exchange("GARBAGE\x01\r\n\r\n");
  ASSERT_TRUE(bad.ok);
  EXPECT_EQ(bad.status, 400);
  auto lines = stop_and_read();
  ASSERT_EQ(lines.size(), given.size() + 1);
  for (const auto& id : echoed) EXPECT_NE(by_id(lines, id), nullptr) << id;
  EXPECT_EQ(lines.back()["status"], 400);
  EXPECT_EQ(lines.back()["method"], "");
  EXPECT_THAT(lines.back()["request_id"].get<std::string>(), MatchesRegex("[0-9a-f]{16}"));
}

TEST_F(AccessLogTest, WithoutAnAccessLogTheRequestIdIsStillEchoed) {
  start();
  auto r = get(uid_, {bearer(token_), "Range: bytes=0-0", "X-Request-Id: plain-1"});
  ASSERT_EQ(r.status, 206);
  EXPECT_EQ(r.headers["x-request-id"], "plain-1");
  EXPECT_NE(::access(log_path_.c_str(), F_OK), 0);
}

TEST_F(AccessLogTest, AResponseCutOffByTheClientIsLoggedIncomplete) {
  // A file larger than what the socket buffers can hold, and a client that reads nothing and
  // leaves: the server can only have sent part of it.
  std::string big = pattern(32 << 20, 9);
  std::string big_uid = sha256_hex(big);
  write_file(dir_.file("big.bin"), big);
  source_.add(big_uid, dir_.file("big.bin"), "big.bin", big.size());
  std::string big_token = auth_.grant(big_uid);
  start_logging();
  {
    RawClient c(plane_->port(), 4096);
    ASSERT_TRUE(c.send_all(request(big_uid, {bearer(big_token), "X-Request-Id: cut-1"})));
    // Wait until the server has begun (its send buffer filled), then go away.
    for (int i = 0; i < 100 && plane_->active_connections() == 0; ++i)
      std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(200ms);
  }  // closed with unread data: a reset
  ASSERT_TRUE(wait_no_connections());
  auto lines = stop_and_read();
  const json* cut = by_id(lines, "cut-1");
  ASSERT_NE(cut, nullptr) << read_file(log_path_);
  EXPECT_EQ((*cut)["status"], 200);
  EXPECT_EQ((*cut)["complete"], false);
  EXPECT_LT((*cut)["bytes"].get<std::uint64_t>(), big.size());
  EXPECT_EQ((*cut)["file_name"], "big.bin");
}

TEST_F(AccessLogTest, ARotatedFileIsFollowedWithoutASignal) {
  start_logging();
  ASSERT_EQ(get(uid_, {bearer(token_), "Range: bytes=0-0", "X-Request-Id: before-1"}).status, 206);
  // The writer gathers lines for a moment: wait until the first one is in the file.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (read_file(log_path_).find("before-1") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(read_file(log_path_).find("before-1"), std::string::npos);
  ASSERT_EQ(::rename(log_path_.c_str(), (log_path_ + ".1").c_str()), 0);  // what logrotate does
  ASSERT_EQ(get(uid_, {bearer(token_), "Range: bytes=0-0", "X-Request-Id: after-1"}).status, 206);
  auto now = stop_and_read();
  auto old = read_lines(log_path_ + ".1");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0]["request_id"], "after-1");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0]["request_id"], "before-1");
  EXPECT_THAT(host_.log_text(), HasSubstr("the file was rotated; writing to a new one"));
}

TEST_F(AccessLogTest, DashWritesToStandardError) {
  // The plane takes its own copy of stderr when it starts: point stderr at a file for that moment.
  std::string captured = dir_.file("stderr.txt");
  int file = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(file, 0);
  int saved = ::dup(2);
  ::dup2(file, 2);
  host::DataPlaneOptions o;
  o.access_log = "-";
  start(o);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(file);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        get(uid_, {bearer(token_), "Range: bytes=0-0", "X-Request-Id: stderr-" + std::to_string(i)})
            .status,
        206);
  }
  plane_->stop(1000);
  auto lines = read_lines(captured);
  ASSERT_EQ(lines.size(), 3u) << read_file(captured);
  for (int i = 0; i < 3; ++i) EXPECT_NE(by_id(lines, "stderr-" + std::to_string(i)), nullptr);
  EXPECT_THAT(host_.log_text(), HasSubstr("data plane: access log to stderr"));
}

TEST_F(AccessLogTest, AnUnwritableLogRefusesToStart) {
  host::DataPlaneOptions o;
  o.listen = "127.0.0.1:0";
  o.access_log = dir_.file("no/such/dir/access.log");
  plane_ = std::make_unique<host::DataPlane>(host_.logger(), host_.metrics(), auth_, source_, o);
  Status s = plane_->start();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("access_log '" + o.access_log + "': cannot open"));
  plane_.reset();
}

}  // namespace
}  // namespace dfd::test
