// Issue 14 (observe), pure parts: X-Request-Id rules, the access-log line format, [content]
// access_log parsing, log timestamps with the UTC offset, and the process_* readers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "content/access_log.hpp"
#include "content/content_service.hpp"
#include "harness.hpp"
#include "log_time.hpp"
#include "process_metrics.hpp"
#include "request_id.hpp"

namespace {
using dfd::host::AccessEntry;
using dfd::host::append_access_line;
using dfd::host::RequestId;
using dfd::host::RequestIdGenerator;
using dfd::host::valid_request_id;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using json = nlohmann::json;

// ------------------------------------------------------------------------------- request ids

TEST(RequestIdRules, TakesOneTo64CharactersOfTheSafeSet) {
  EXPECT_TRUE(valid_request_id("a"));
  EXPECT_TRUE(valid_request_id("req-42_A.b"));
  EXPECT_TRUE(valid_request_id(std::string(64, 'x')));
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id(std::string(65, 'x')));
  for (const char* bad : {"a b", "a/b", "a;b", "a\"b", "a\r\nX-Evil: 1", "caf\xc3\xa9", "a:b",
                          "{\"x\":1}", "a\tb", "%41"}) {
    EXPECT_FALSE(valid_request_id(bad)) << bad;
  }
}

TEST(RequestIdRules, AValidIdIsKeptAnythingElseGetsSixteenHexCharacters) {
  RequestIdGenerator gen;
  RequestId id;
  gen.assign(id, "client-7.A_b");
  EXPECT_EQ(id.view(), "client-7.A_b");
  for (const std::string& given : {std::string(), std::string(65, 'a'), std::string("bad id!"),
                                   std::string("x\r\nSet-Cookie: a=b")}) {
    gen.assign(id, given);
    EXPECT_THAT(std::string(id.view()), MatchesRegex("[0-9a-f]{16}")) << given;
  }
  // Fresh ids differ from one another.
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(gen.next());
  EXPECT_EQ(seen.size(), 1000u);
  // Two generators (two threads, two processes) do not repeat each other's sequence.
  RequestIdGenerator other;
  EXPECT_EQ(seen.count(other.next()), 0u);
}

// ---------------------------------------------------------------------------- access log line

AccessEntry sample_entry() {
  AccessEntry e;
  e.time = "2026-11-30T10:00:00.123+00:00";
  e.request_id = "4f1c2a9be07d5a13";
  e.remote = "127.0.0.1";
  e.method = "GET";
  e.target = "/v1/content/9f86d0";
  e.status = 206;
  e.bytes = 1048576;
  e.duration_ms = 1.2345;
  e.file_id = "9f86d0";
  e.file_name = "videos/movie.mp4";
  return e;
}

TEST(AccessLogLine, IsOneJsonObjectWithEveryFieldOnOneLine) {
  std::string out;
  append_access_line(out, sample_entry());
  EXPECT_EQ(out,
            "{\"time\":\"2026-11-30T10:00:00.123+00:00\",\"request_id\":\"4f1c2a9be07d5a13\","
            "\"remote\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/v1/content/9f86d0\","
            "\"status\":206,\"bytes\":1048576,\"duration_ms\":1.234,\"complete\":true,"
            "\"file_id\":\"9f86d0\",\"file_name\":\"videos/movie.mp4\"}\n");
  // Appends: two entries are two lines.
  append_access_line(out, sample_entry());
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST(AccessLogLine, WithoutAFileHasNoFileFieldsAndACutOffResponseSaysSo) {
  AccessEntry e = sample_entry();
  e.file_id = {};
  e.file_name = {};
  e.status = 401;
  e.bytes = 0;
  e.complete = false;
  std::string out;
  append_access_line(out, e);
  json j = json::parse(out);
  EXPECT_FALSE(j.contains("file_id"));
  EXPECT_FALSE(j.contains("file_name"));
  EXPECT_EQ(j["status"], 401);
  EXPECT_EQ(j["complete"], false);
}

TEST(AccessLogLine, NeverHoldsTheQueryString) {
  AccessEntry e = sample_entry();
  e.target = "/v1/content/9f86d0?token=SECRET-IN-QUERY&x=1";
  std::string out;
  append_access_line(out, e);
  EXPECT_THAT(out, Not(HasSubstr("SECRET")));
  EXPECT_THAT(out, Not(HasSubstr("?")));
  EXPECT_EQ(json::parse(out)["path"], "/v1/content/9f86d0");
  e.target = "/v1/content/x#frag?token=SECRET";
  out.clear();
  append_access_line(out, e);
  EXPECT_EQ(json::parse(out)["path"], "/v1/content/x");
}

TEST(AccessLogLine, HostileFieldsAreEscapedAndStayValidJsonOnOneLine) {
  AccessEntry e = sample_entry();
  std::string path = "/v1/content/\"},\"status\":200,\"x\":\"\\\n\r\t\x01\x7f";
  path += "caf\xc3\xa9";  // valid UTF-8 is kept
  path += "\xff\xc3";     // invalid bytes become U+FFFD
  e.target = path;
  e.method = "G\"ET";
  e.file_name = "a\nb";
  std::string out;
  append_access_line(out, e);
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1);  // only the final one
  EXPECT_EQ(out.back(), '\n');
  json j = json::parse(out);  // throws on invalid JSON or invalid UTF-8
  EXPECT_EQ(j["status"], 206);
  EXPECT_EQ(j["method"], "G\"ET");
  EXPECT_EQ(j["file_name"], "a\nb");
  std::string p = j["path"];
  EXPECT_THAT(p, HasSubstr("caf\xc3\xa9"));
  EXPECT_THAT(p, HasSubstr("\xef\xbf\xbd\xef\xbf\xbd"));  // two U+FFFD
  EXPECT_THAT(out, HasSubstr("\\u0001"));
  EXPECT_THAT(out, HasSubstr("\\u007f"));
}

TEST(AccessLogLine, EveryStringFieldIsBounded) {
  AccessEntry e = sample_entry();
  std::string huge(100000, 'p');
  e.target = huge;
  e.method = huge;
  e.remote = huge;
  e.file_id = huge;
  e.file_name = huge;
  e.request_id = huge;
  std::string out;
  append_access_line(out, e);
  json j = json::parse(out);
  EXPECT_EQ(j["path"].get<std::string>().size(), dfd::host::kMaxPathChars);
  EXPECT_EQ(j["method"].get<std::string>().size(), dfd::host::kMaxMethodChars);
  EXPECT_EQ(j["remote"].get<std::string>().size(), dfd::host::kMaxRemoteChars);
  EXPECT_EQ(j["file_id"].get<std::string>().size(), dfd::host::kMaxFileIdChars);
  EXPECT_EQ(j["file_name"].get<std::string>().size(), dfd::host::kMaxFileNameChars);
  EXPECT_EQ(j["request_id"].get<std::string>().size(), dfd::host::kMaxRequestIdLength);
  EXPECT_LT(out.size(), 1400u);
  // Escaping at most sextuples a byte: a line of control characters is still bounded.
  const std::string controls(100000, '\x01');  // AccessEntry holds views: keep the bytes alive
  e.target = controls;
  out.clear();
  append_access_line(out, e);
  EXPECT_LT(out.size(), 6 * dfd::host::kMaxPathChars + 1400);
}

TEST(AccessLogLine, RemoteAddressText) {
  EXPECT_EQ(dfd::host::address_text(std::string("\x7f\x00\x00\x01", 4)), "127.0.0.1");
  std::string v6(16, '\0');
  v6[15] = 1;
  EXPECT_EQ(dfd::host::address_text(v6), "::1");
  EXPECT_EQ(dfd::host::address_text(""), "");
}

// ------------------------------------------------------------------- [content] access_log

dfd::Result<dfd::host::ContentOptions> parse_content(const std::string& file,
                                                     const std::string& body) {
  toml::table doc = toml::parse("[content]\n" + body, file);
  return dfd::host::parse_content_options(*doc["content"].as_table(), file);
}

TEST(AccessLogOption, OffByDefaultStderrOrAFileBesideTheConfig) {
  dfd::test::TempDir dir;
  std::string cfg = dir.file("fs.toml");
  auto o = parse_content(cfg, "listen = \"127.0.0.1:0\"\n");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->access_log, "");
  o = parse_content(cfg, "access_log = \"\"\n");  // "${DFD_ACCESS_LOG:-}" unset
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->access_log, "");
  o = parse_content(cfg, "access_log = \"-\"\n");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->access_log, "-");
  o = parse_content(cfg, "access_log = \"access.log\"\n");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->access_log, dir.file("access.log"));
  // Checked without creating anything (--check has no side effects).
  EXPECT_NE(::access(dir.file("access.log").c_str(), F_OK), 0);
}

TEST(AccessLogOption, RefusalsNameFileLineAndKey) {
  dfd::test::TempDir dir;
  std::string cfg = dir.file("fs.toml");
  std::string file = dir.file("a-file");
  { std::ofstream(file) << "x"; }
  auto o = parse_content(cfg, "threads = 2\naccess_log = \"" + file + "/logs/access.log\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(),
              HasSubstr(cfg + ":3: [content] key 'access_log': '" + file + "' is not a directory"));
  o = parse_content(cfg, "access_log = \"" + dir.path() + "\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr(":2: [content] key 'access_log': '" + dir.path() +
                                              "' is not a regular file"));
  o = parse_content(cfg, "access_log = true\n");
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(),
              HasSubstr(":2: [content] key 'access_log': expected a string, got a boolean"));
  o = parse_content(cfg, "acess_log = \"-\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("did you mean 'access_log'"));
}

// ----------------------------------------------------------------------------- log times

class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    had_ = std::getenv("TZ") != nullptr;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ScopedTz() {
    if (had_) {
      ::setenv("TZ", old_.c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::string old_;
  bool had_ = false;
};

TEST(LogTime, LocalTimeWithMillisecondsAndTheUtcOffset) {
  // 2026-11-30T10:00:00.123Z
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796032800123));
  dfd::host::LogTimeFormatter f;
  {
    ScopedTz tz("UTC0");
    EXPECT_EQ(f.format(t), "2026-11-30T10:00:00.123+00:00");
  }
  {
    ScopedTz tz("<+0530>-5:30");
    dfd::host::LogTimeFormatter g;  // a new second cache for the new zone
    EXPECT_EQ(g.format(t), "2026-11-30T15:30:00.123+05:30");
    EXPECT_EQ(g.format(t + std::chrono::milliseconds(5)), "2026-11-30T15:30:00.128+05:30");
    EXPECT_EQ(g.format(t + std::chrono::seconds(1)), "2026-11-30T15:30:01.123+05:30");
  }
  {
    ScopedTz tz("<-03>3");
    dfd::host::LogTimeFormatter g;
    EXPECT_EQ(g.format(t), "2026-11-30T07:00:00.123-03:00");
  }
}

TEST(LogTime, LogLinesCarryTheUtcOffset) {
  std::ostringstream os;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(os);
  sink->set_pattern(dfd::host::kLogLinePattern);
  spdlog::logger log("storage-fs", sink);
  log.info("hello");
  std::string line = os.str();
  EXPECT_TRUE(std::regex_match(
      line,
      std::regex(
          R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d info \[storage-fs\] hello\r?\n)")))
      << line;
}

// --------------------------------------------------------------------------- process_*

TEST(ProcessMetrics, ParsesProcStatPastACommandNameWithSpacesAndParentheses) {
  // Fields 3.. of a real line; comm "dfd (host) x".
  std::string line =
      "4242 (dfd (host) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 50 0 0 20 0 9 0 "
      "123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
  auto p = dfd::host::parse_proc_stat(line, 100, 4096);
  ASSERT_TRUE(p.has_value());
  EXPECT_DOUBLE_EQ(p->cpu_seconds, 2.0);  // (150 + 50) / 100
  EXPECT_DOUBLE_EQ(p->start_time_seconds, 1234.56);
  EXPECT_DOUBLE_EQ(p->virtual_bytes, 987654321);
  EXPECT_DOUBLE_EQ(p->resident_bytes, 2048.0 * 4096);
  EXPECT_FALSE(dfd::host::parse_proc_stat("4242 (x) S 1 2", 100, 4096).has_value());
  EXPECT_FALSE(dfd::host::parse_proc_stat("garbage", 100, 4096).has_value());
}

TEST(ProcessMetrics, BootTimeFromTheClocksMatchesProcStat) {
  auto boot = dfd::host::boot_time_seconds();
  ASSERT_TRUE(boot.has_value());
  // /proc/stat's btime (whole seconds) is the kernel's own figure of the same thing.
  std::string stat = dfd::test::read_file("/proc/stat");
  auto at = stat.find("\nbtime ");
  ASSERT_NE(at, std::string::npos);
  double btime = std::stod(stat.substr(at + 7));
  EXPECT_NEAR(*boot, btime, 2.0);
}

TEST(ProcessMetrics, RenderReadsThisProcess) {
  std::string text = dfd::host::render_process_metrics();
  std::map<std::string, double> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.find(' ');
    v[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  ASSERT_EQ(v.size(), 6u) << text;
  EXPECT_GE(v["process_cpu_seconds_total"], 0);
  EXPECT_GT(v["process_resident_memory_bytes"], 1 << 20);
  EXPECT_GT(v["process_virtual_memory_bytes"], v["process_resident_memory_bytes"]);
  EXPECT_GE(v["process_open_fds"], 3);  // stdin, stdout, stderr
  EXPECT_GT(v["process_max_fds"], v["process_open_fds"]);
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(v["process_start_time_seconds"], now + 1);
  EXPECT_GT(v["process_start_time_seconds"], now - 3600);  // this test started recently
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_open_fds gauge\n"));
}

}  // namespace
