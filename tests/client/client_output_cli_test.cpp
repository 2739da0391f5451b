// Where the real `dfd get` writes (issue 13), against the test cluster of cli_cluster.hpp (real
// HTTP on 127.0.0.1): -o DIR / -d DIR, folders created, names kept inside the folder, the existing
// file refused before a token is asked for, two concurrent gets into one path (the output lock),
// and -o - streamed into sha256sum and into `head -c 1000`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "cli_cluster.hpp"
#include "harness.hpp"
#include "test_file_server.hpp"

using namespace dfd::test::cli;
using dfd::test::read_file;

namespace {
bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

std::size_t entries(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// `dfd get 7 -o - ARGS 2>ERR | CONSUMER` in bash (pipefail: the status is dfd's when dfd failed)
// with TMPDIR set to a fresh folder; `timeout` bounds it so a hang fails the test instead of
// blocking it. The cluster serves 24 MiB in chunks of 256 KiB.
struct StreamRun {
  Cluster c{24 * kMiB, 256 * 1024};
  dfd::test::TempDir tmp;
  std::string stderr_text;

  StreamRun() {
    c.login();
    c.env["TMPDIR"] = tmp.path();
  }
  dfd::test::RunResult run(const std::string& args, const std::string& consumer) {
    std::string err = c.dir.file("err.txt");
    auto r = dfd::test::run({"timeout", "120", "bash", "-c",
                             "set -o pipefail; '" + dfd::test::bin("dfd") + "' get 7 -o - " + args +
                                 " 2>'" + err + "' | " + consumer},
                            "", c.env);
    stderr_text = read_file(err);
    return r;
  }
};
}  // namespace

TEST(ClientOutput, DirectoryOptionsUseTheFilesName) {
  Cluster c(2 * kMiB, 256 * 1024);
  c.login();
  // -o DIR (an existing directory, no slash).
  std::string d = c.dir.file("existing");
  ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
  auto r = c.dfd({"get", "7", "-o", d, "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(d + "/movie.bin"), *c.file.data);
  // The same again: the existing DIR/NAME is refused (after the manifest, the name is needed).
  r = c.dfd({"get", "7", "-o", d, "--no-progress"});
  EXPECT_EQ(r.status, 6) << r.output;
  EXPECT_NE(r.output.find(d + "/movie.bin already exists"), std::string::npos) << r.output;
  // -o NEW/ with missing folders: created, and said.
  std::string nested = c.dir.file("a/b/");
  r = c.dfd({"get", "7", "-o", nested, "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(nested + "movie.bin"), *c.file.data);
  EXPECT_NE(r.output.find("dfd: created folder " + c.dir.file("a/b")), std::string::npos)
      << r.output;
  // -d DIR, and -d DIR -o REL.
  r = c.dfd({"get", "7", "-d", c.dir.file("dl"), "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(c.dir.file("dl/movie.bin")), *c.file.data);
  r = c.dfd({"get", "7", "-d", c.dir.file("dl"), "-o", "sub/x.bin", "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(c.dir.file("dl/sub/x.bin")), *c.file.data);
  EXPECT_FALSE(exists(c.dir.file("dl/sub/x.bin.dfd-lock")));
}

TEST(ClientOutput, ManifestNamesNeverLeaveTheFolder) {
  Cluster c(kMiB, 256 * 1024);
  c.login();
  std::string d = c.dir.file("dl");
  c.rename_file("../../escaped.bin");
  auto r = c.dfd({"get", "7", "-d", d, "--no-progress"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("give -o PATH"), std::string::npos) << r.output;
  EXPECT_FALSE(exists(c.dir.file("escaped.bin")));
  c.rename_file("docs/.profile");
  r = c.dfd({"get", "7", "-d", d, "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(d + "/profile"), *c.file.data);
  EXPECT_FALSE(exists(d + "/.profile"));
}

TEST(ClientOutput, ExistingFileIsRefusedBeforeATokenIsAsked) {
  Cluster c(kMiB, 256 * 1024);
  c.login();
  dfd::test::write_file(c.out(), "mine");
  auto r = c.dfd({"get", "7", "-o", c.out(), "--no-progress"});
  EXPECT_EQ(r.status, 6) << r.output;
  EXPECT_EQ(c.info.manifest_requests.load(), 0u);
  EXPECT_EQ(read_file(c.out()), "mine");
  EXPECT_FALSE(exists(c.out() + ".dfd-lock"));
}

// Two dfd get into one path: the second is refused at once, naming the first; the first is not
// disturbed. The first is slowed down by the file servers (1 MiB/s per connection).
TEST(ClientOutput, SecondGetIntoTheSamePathIsLocked) {
  Cluster c;
  for (auto& s : c.fs) s->faults.rate = kMiB;
  c.login();
  std::vector<std::string> args = {dfd::test::bin("dfd"), "get", "7", "-o", c.out(),
                                   "--no-progress"};
  dfd::test::Process first(args, c.env);
  std::string lock = c.out() + ".dfd-lock";
  for (int i = 0; i < 2000 && read_file(lock).find("since") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_NE(read_file(lock).find("since"), std::string::npos) << first.log();
  // ... and downloading (its SIGINT handler is in place from then on).
  for (int i = 0; i < 2000 && c.served() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(first.running()) << first.log();
  auto manifests = c.info.manifest_requests.load();
  auto second = c.dfd({"get", "7", "-o", c.out(), "--no-progress", "--force"});
  EXPECT_EQ(second.status, 12) << second.output;
  std::regex said(".*" + c.out() + " is being downloaded by dfd pid " +
                  std::to_string(first.pid()) + " on .+ since [0-9]{2}:[0-9]{2}:[0-9]{2} \\(" +
                  lock + "\\).*");
  EXPECT_TRUE(std::regex_search(second.output, said)) << second.output;
  EXPECT_EQ(c.info.manifest_requests.load(), manifests) << "refused before a download token";
  ASSERT_TRUE(first.running()) << first.log();
  first.signal(SIGINT);
  EXPECT_EQ(first.wait(std::chrono::seconds(30)), 130) << first.log();
  EXPECT_FALSE(exists(lock)) << "removed when the holder ends";
  for (auto& s : c.fs) s->faults.rate = 0;
  auto third = c.dfd({"get", "7", "-o", c.out(), "--no-progress"});  // resumes
  ASSERT_EQ(third.status, 0) << third.output;
  EXPECT_EQ(read_file(c.out()), *c.file.data);
}

// A lock file left by a killed dfd is stale: its flock is free, the next dfd takes it.
TEST(ClientOutput, StaleLockFileIsTaken) {
  Cluster c(kMiB, 256 * 1024);
  c.login();
  dfd::test::write_file(c.out() + ".dfd-lock", "dfd-lock\npid 1\nhost elsewhere\nsince 5\n");
  auto r = c.dfd({"get", "7", "-o", c.out(), "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(c.out()), *c.file.data);
  EXPECT_FALSE(exists(c.out() + ".dfd-lock"));
}

// -o -: the verified bytes in order on stdout, the report on stderr, a window of 2 MiB over a
// 24 MiB file of 256 KiB chunks: the temporary part never holds much more than the window.
TEST(ClientOutput, StreamToStdoutIsTheFileWithBoundedTemporarySpace) {
  StreamRun s;
  auto r = s.run("--stream-window 2097152", "sha256sum");
  const std::string& log = s.stderr_text;
  ASSERT_EQ(r.status, 0) << r.output << log;
  EXPECT_EQ(r.output.substr(0, 64), s.c.file.uid) << r.output << log;  // uid = the sha256
  EXPECT_NE(log.find("done: -,"), std::string::npos) << log;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m,
                                std::regex("streamed 24\\.0 MiB to stdout; temporary space used at "
                                           "most ([0-9.]+) (B|KiB|MiB)")))
      << log;
  double peak = std::stod(m[1]) * (m[2] == "MiB" ? 1 << 20 : m[2] == "KiB" ? 1 << 10 : 1);
  // The window (2 MiB) plus a chunk in flight and a chunk of rounding.
  EXPECT_LE(peak, 2.5 * kMiB) << log;
  EXPECT_GT(peak, 0) << log;
  EXPECT_EQ(entries(s.tmp.path()), 0u) << "the private folder is removed";
}

// A reader that waits 2 s before reading: dfd is blocked writing stdout meanwhile (far longer
// than --silent-after and --stall-timeout); that pause is not blamed on any server (on_prefix is
// called first in a turn of the loop, so what arrived meanwhile is read before stalls are judged).
TEST(ClientOutput, StreamSlowReaderIsNotBlamedOnServers) {
  StreamRun s;
  for (auto& f : s.c.fs) f->faults.rate = 8 * kMiB;  // per connection: transfers are in flight
  auto r = s.run("--stall-timeout 0.5 --silent-after 0.2", "(sleep 2; sha256sum)");
  const std::string& log = s.stderr_text;
  ASSERT_EQ(r.status, 0) << r.output << log;
  EXPECT_EQ(r.output.substr(0, 64), s.c.file.uid) << r.output << log;
  std::regex row("  (fs-[abc]) +[0-9.]+ [KMGi]*B +[0-9.]+% +[0-9]+ +([0-9]+) +([0-9]+)  ok");
  int rows = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), row), end; it != end; ++it, ++rows)
    EXPECT_EQ((*it)[2], "0") << (*it)[1] << " retries: " << log;
  EXPECT_EQ(rows, 3) << log;
  std::uint64_t requests = 0;  // no second copy was asked for because a copy looked silent
  for (auto& f : s.c.fs) requests += f->content_requests.load();
  EXPECT_EQ(requests, 96u) << log;
}

// The reader takes 1000 bytes and goes away: dfd stops at once (exit 9, a plain message), removes
// its temporary folder, and does not hang.
TEST(ClientOutput, StreamReaderGoneEndsCleanly) {
  StreamRun s;
  auto r = s.run("", "head -c 1000 | wc -c");
  const std::string& log = s.stderr_text;
  EXPECT_EQ(r.status, 9) << r.output << log;
  EXPECT_EQ(r.output, "1000\n") << log;
  EXPECT_NE(log.find("dfd: stdout was closed by its reader after"), std::string::npos) << log;
  EXPECT_EQ(entries(s.tmp.path()), 0u) << "the private folder is removed";
  // --json is refused with -o - (stdout carries the file).
  EXPECT_EQ(s.run("--json", "wc -c").status, 2);
  EXPECT_NE(s.stderr_text.find("--json and -o - do not go together"), std::string::npos)
      << s.stderr_text;
}

// Ctrl-C during -o -: exit 130 and the private temporary folder is gone.
TEST(ClientOutput, StreamInterruptedRemovesItsTemporaryFolder) {
  StreamRun s;
  for (auto& f : s.c.fs) f->faults.rate = kMiB;  // per connection: about 2 s in all
  std::vector<std::string> args = {dfd::test::bin("dfd"), "get", "7", "-o", "-", "--no-progress"};
  dfd::test::Process p(args, s.c.env);  // stdout: a log file, not a terminal
  for (int i = 0; i < 2000 && (entries(s.tmp.path()) == 0 || s.c.served() == 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(entries(s.tmp.path()), 1u) << p.log();
  ASSERT_TRUE(p.running()) << p.log();
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(std::chrono::seconds(30)), 130) << p.log();
  EXPECT_EQ(entries(s.tmp.path()), 0u) << p.log();
}
