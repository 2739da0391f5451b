// Issue 13, the real `dfd`: speed limits and the info-call timeout.
// - --limit-rate 20M on a 256 MiB file from a real dfd-host (tests/info/aio_host.hpp: info and
//   content roles in one process) lands within +-10 % of 12.8 s, and the throttled client sleeps
//   (its CPU time stays a small part of the wall time: a spinning loop would use a whole core).
// - --per-server-rate against three test file servers (tests/client/cli_cluster.hpp): no server
//   sends faster than the limit, and the download is not much slower than three times it.
// - --timeout: an info server that accepts and never answers makes the command fail after about
//   the timeout (not the old 30 s x 3 rounds), naming the server and the timeout (exit 4), or
//   moves on to the next server of the list; with --deadline the smaller of the two wins.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <thread>

#include "aio_host.hpp"
#include "cli_cluster.hpp"
#include "harness.hpp"
#include "test_file_server.hpp"

namespace dfd::test {
namespace {
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using cli::Cluster;
using cli::get_args;
using cli::kMiB;
using cli::report_of;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds (user + system) of the children this process has reaped so far.
double children_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_CHILDREN, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// A timed run of the real dfd: its result, wall seconds and CPU seconds.
struct Timed {
  RunResult r;
  double wall = 0;
  double cpu = 0;
};
template <class F>
Timed timed(F&& run_dfd) {
  Timed t;
  double cpu0 = children_cpu_s();
  auto t0 = Clock::now();
  t.r = run_dfd();
  t.wall = seconds_since(t0);
  t.cpu = children_cpu_s() - cpu0;
  return t;
}

// ---------------------------------------------------------------------------- --limit-rate
TEST(LimitRate, TwentyMiBPerSecondOn256MiBFromARealHostTakes12Point8Seconds) {
  const std::size_t size = 256 * kMiB;
  std::unique_ptr<AioHost> host;
  {
    auto data = random_bytes(size, 13);
    host = std::make_unique<AioHost>(*data, "");
  }
  ASSERT_TRUE(host->ready) << host->host->log();
  TempDir home;
  std::map<std::string, std::string> env = {{"XDG_CONFIG_HOME", home.file("config")},
                                            {"HOME", home.path()}};
  auto dfd = [&](std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), bin("dfd"));
    return run(args, in, env);
  };
  auto login =
      dfd({"--server", host->base, "login", "--email", "admin@example.com", "--password-stdin"},
          "admin-password-1\n");
  ASSERT_EQ(login.status, 0) << login.output;
  std::string id;
  for (auto end = Clock::now() + 30s; id.empty() && Clock::now() < end;) {
    auto ls = dfd({"--server", host->base, "ls", "--json"});
    auto j = nlohmann::json::parse(ls.output.substr(0, ls.output.rfind('}') + 1), nullptr, false);
    if (ls.status == 0 && j.is_object() && j["total"] == 1 && j["files"][0]["size"] == size)
      id = std::to_string(j["files"][0]["id"].get<int>());
    else
      std::this_thread::sleep_for(200ms);
  }
  ASSERT_FALSE(id.empty()) << "the 256 MiB file was not listed";

  const double expected = 256.0 / 20.0;  // 12.8 s
  auto t = timed([&] {
    return dfd({"--server", host->base, "get", id, "-o", home.file("big.bin"), "--json",
                "--no-progress", "--limit-rate", "20M"});
  });
  ASSERT_EQ(t.r.status, 0) << t.r.output;
  auto rep = report_of(t.r.output);
  ASSERT_TRUE(rep.is_object()) << t.r.output;
  EXPECT_EQ(rep["digest_verified"], true);
  std::printf(
      "--limit-rate 20M, 256 MiB: %.2f s wall (expected %.1f s), %.2f s CPU, %s bytes "
      "received\n",
      t.wall, expected, t.cpu, rep["bytes_received"].dump().c_str());
  EXPECT_GE(t.wall, expected * 0.9);
  EXPECT_LE(t.wall, expected * 1.1);
  // A throttled client sleeps: hashing and writing 256 MiB costs about a second of CPU; a loop
  // that spins while throttled would use the whole 12.8 s.
  EXPECT_LT(t.cpu, t.wall * 0.4);
}

// ---------------------------------------------------------------------------- --per-server-rate
TEST(PerServerRate, NoServerSendsFasterThanTheLimit) {
  Cluster c(16 * kMiB, kMiB);
  c.login();
  // fs-a and fs-b at their 2 MiB/s limit, fs-c slower than it (128 KiB/s per connection): a limit
  // of each server, not a total split three ways (that would let fs-a and fs-b go faster).
  // 16 MiB in at least 16 / (2 + 2 + 0.5) = 3.6 s (about 4 s: fs-c's copies are mostly
  // overtaken by second copies from the others); without the limit well under a second.
  c.fs[2]->faults.rate = 128 * 1024;
  const double per = 2.0 * kMiB, expected = 16.0 / 4.5;
  auto t = timed([&] { return c.dfd(get_args(c, {"--per-server-rate", "2M"})); });
  ASSERT_EQ(t.r.status, 0) << t.r.output;
  auto rep = report_of(t.r.output);
  ASSERT_TRUE(rep.is_object()) << t.r.output;
  double received = rep["bytes_received"].get<double>();
  std::printf(
      "--per-server-rate 2M, 3 servers (one slower), 16 MiB: %.2f s (expected %.1f s), %.2f MiB "
      "received (second copies included)\n",
      t.wall, expected, received / kMiB);
  // What the client took (every copy) stays within the three limits; what each server delivered
  // within its own. (What a server wrote into its socket may be more: the kernel buffers of a
  // connection the client paused or of a cancelled second copy hold bytes never read.)
  EXPECT_LE(received, (2 * per + 0.5 * kMiB) * t.wall * 1.1);
  for (const auto& s : rep["servers"]) {
    double bytes = s["bytes"].get<double>();
    std::printf("  %s delivered %.2f MiB: %.2f MiB/s\n", s["id"].get<std::string>().c_str(),
                bytes / kMiB, bytes / kMiB / t.wall);
    EXPECT_LE(bytes, per * t.wall * 1.1) << s["id"];
  }
  EXPECT_GE(t.wall, expected * 0.9);
  EXPECT_LE(t.wall, expected * 2);  // the end of a download may leave a server idle
}

// A low limit (many connections, each a sliver of it): still accurate, no request fails as too slow
// (--min-speed is kept below each connection's share), and the client sleeps while throttled.
TEST(LimitRate, ALowLimitWithManyConnections) {
  Cluster c(1 * kMiB, 64 * 1024);
  c.login();
  const double expected = 1024.0 / 256.0;  // 4 s
  auto t = timed([&] {
    return c.dfd(get_args(c, {"--limit-rate", "256K", "--connections", "12", "--min-speed",
                              "100000", "--min-speed-time", "1"}));
  });
  ASSERT_EQ(t.r.status, 0) << t.r.output;
  auto rep = report_of(t.r.output);
  ASSERT_TRUE(rep.is_object()) << t.r.output;
  std::printf(
      "--limit-rate 256K, 12 connections, 1 MiB: %.2f s (expected %.1f s; the download itself "
      "%.2f s, %s bytes received), %.2f s CPU\n",
      t.wall, expected, rep["seconds"].get<double>(), rep["bytes_received"].dump().c_str(), t.cpu);
  for (const auto& s : rep["servers"]) EXPECT_EQ(s["retries"], 0) << s.dump();
  EXPECT_GE(t.wall, expected * 0.9);
  EXPECT_LE(t.wall, expected * 1.25);
  EXPECT_LT(t.cpu, t.wall * 0.4);
}

// Several files in one command share the limit: two 6 MiB files in parallel at --limit-rate 3M
// take 4 s together (each with a limit of its own: 2 s).
TEST(LimitRate, SeveralFilesInParallelShareTheLimit) {
  Cluster c(6 * kMiB, kMiB);
  TestFile second = c.file;
  second.id = 8;
  second.name = "second.bin";
  second.data = random_bytes(6 * kMiB, 43);
  second.uid = digest_hex(second.alg, second.data->data(), second.data->size());
  for (auto& s : c.fs) s->serve_content(second.uid, second.data);
  c.info.serve_info("ann@example.org", "s3cret", {c.file, second}, c.locs, c.tokens);
  c.login();
  const double expected = 12.0 / 3.0;
  TempDir out;
  auto t = timed([&] {
    return c.dfd({"get", "7", "8", "--parallel", "2", "-o", out.path() + "/", "--no-progress",
                  "--limit-rate", "3M"});
  });
  ASSERT_EQ(t.r.status, 0) << t.r.output;
  EXPECT_EQ(read_file(out.file("second.bin")), *second.data);
  std::printf("--limit-rate 3M, 2 x 6 MiB with --parallel 2: %.2f s (expected %.1f s)\n", t.wall,
              expected);
  EXPECT_GE(t.wall, expected * 0.9);
  EXPECT_LE(t.wall, expected * 1.25);
}

TEST(RateOptions, BadRatesAreUsageErrors) {
  Cluster c(kMiB, kMiB);
  for (const char* bad : {"-1M", "fast", "20Q", "1e3", "99999999999T"}) {
    auto r = c.dfd(get_args(c, {"--limit-rate", bad}));
    EXPECT_EQ(r.status, 2) << bad << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("is not a rate")) << bad;
  }
  auto r = c.dfd(get_args(c, {"--per-server-rate", "1..5K"}));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--per-server-rate"));
}

// ---------------------------------------------------------------------------- --timeout
// A cluster whose info server hangs: it accepts, reads the request and never answers
// (/v1/files*; login still answers). The hung connections are released at the end.
class HungInfo : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(c.login());
    c.info.faults.stall_info = true;
  }
  void TearDown() override { c.info.release_stall(); }
  Cluster c{2 * kMiB, kMiB};
};

TEST_F(HungInfo, TheCommandFailsAfterTheTimeoutNamingServerAndTimeout) {
  auto t = timed([&] { return c.dfd({"ls", "--timeout", "2"}); });
  EXPECT_EQ(t.r.status, 4) << t.r.output;
  EXPECT_THAT(t.r.output, HasSubstr(c.info.url()));
  EXPECT_THAT(t.r.output, HasSubstr("no answer within 2 s (--timeout)"));
  std::printf("hung info server, --timeout 2: failed after %.2f s\n", t.wall);
  EXPECT_GE(t.wall, 1.5);  // it did wait for the answer
  EXPECT_LT(t.wall, 8.0);  // one timeout, not three rounds of them (nor the old 30 s each)
  // The same before the command name, and for get (the manifest call).
  t = timed([&] { return c.dfd({"--timeout", "1.5", "get", "7", "-o", c.out()}); });
  EXPECT_EQ(t.r.status, 4) << t.r.output;
  EXPECT_THAT(t.r.output, HasSubstr("no answer within 1.5 s (--timeout)"));
  EXPECT_LT(t.wall, 8.0);
}

TEST_F(HungInfo, TheNextServerOfTheListAnswers) {
  // A second, live info server for the same user (same user token, same catalog).
  TestServer live("info-live");
  live.serve_info("ann@example.org", "s3cret", {c.file}, c.locs, c.tokens);
  std::string list = c.info.url() + "," + live.url();
  auto login = c.dfd({"--server", list, "login", "--email", "ann@example.org", "--password-stdin"},
                     "s3cret\n");
  ASSERT_EQ(login.status, 0) << login.output;
  auto t = timed([&] {
    return c.dfd({"--server", list, "--timeout", "2", "get", "7", "-o", c.out(), "--no-progress"});
  });
  EXPECT_EQ(t.r.status, 0) << t.r.output;
  EXPECT_EQ(read_file(c.out()), *c.file.data);
  EXPECT_EQ(live.manifest_requests.load(), 1u);
  std::printf("hung first info server, --timeout 2: the second answered, done after %.2f s\n",
              t.wall);
  EXPECT_GE(t.wall, 1.5);
  EXPECT_LT(t.wall, 8.0);
}

TEST_F(HungInfo, WithADeadlineTheSmallerOfTheTwoWins) {
  // The deadline first: exit 10 (deadline), after about 1 s.
  auto t = timed([&] {
    return c.dfd({"get", "7", "-o", c.out(), "--timeout", "20", "--deadline", "1"});
  });
  EXPECT_EQ(t.r.status, 10) << t.r.output;
  EXPECT_THAT(t.r.output, HasSubstr("deadline of 1 s passed"));
  EXPECT_LT(t.wall, 6.0);
  // The timeout first: exit 4 (info server), after about 1 s, well before the deadline.
  t = timed([&] {
    return c.dfd({"get", "7", "-o", c.out(), "--timeout", "1", "--deadline", "30"});
  });
  EXPECT_EQ(t.r.status, 4) << t.r.output;
  EXPECT_THAT(t.r.output, HasSubstr("no answer within 1 s (--timeout)"));
  EXPECT_LT(t.wall, 6.0);
}

TEST(TimeoutOption, BadValuesAreUsageErrors) {
  for (const char* bad : {"0", "-1", "soon"}) {
    auto r = run({bin("dfd"), "--timeout", bad, "ls"});
    EXPECT_EQ(r.status, 2) << bad << ": " << r.output;
  }
}

}  // namespace
}  // namespace dfd::test
