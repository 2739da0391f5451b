// Issue 11: the real `dfd` binary against hostile info servers and hostile file servers
// (tests/client/test_file_server.* with its hostile switches), over real sockets on 127.0.0.1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli_cluster.hpp"
#include "downloader.hpp"
#include "harness.hpp"
#include "small_disk.hpp"
#include "state_file.hpp"
#include "util.hpp"

using dfd::client::printable;

using namespace dfd::test::cli;
using dfd::test::read_file;

namespace {

// A run of `dfd` with the peak RSS of that one process (wait4), not of the test's other children.
struct Measured {
  int status = -1;
  std::string output;
  long max_rss_kib = 0;
};

Measured run_measured(Cluster& c, std::vector<std::string> args) {
  args.insert(args.begin(), dfd::test::bin("dfd"));
  std::string log = c.dir.file("measured.log");
  pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& [k, v] : c.env) ::setenv(k.c_str(), v.c_str(), 1);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    int nul = ::open("/dev/null", O_RDONLY);
    ::dup2(nul, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Measured m;
  int st = 0;
  rusage ru{};
  ::wait4(pid, &st, 0, &ru);
  m.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  m.max_rss_kib = ru.ru_maxrss;
  m.output = read_file(log);
  return m;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

// Issue 11 #4: an info server whose reply never ends drove `dfd ls` to 1 GB and bad_alloc. The
// reply is cut at 16 MiB with a plain error; memory stays bounded (the server would send 256 MiB).
TEST(HostileInfoServer, EndlessReplyIsCutWithAClearError) {
  Cluster c(2 * kMiB);
  c.login();
  c.info.faults.endless_info_body = 256 * static_cast<std::int64_t>(kMiB);
  for (std::vector<std::string> cmd : {std::vector<std::string>{"ls"},
                                       {"info", "7"},
                                       {"get", "7", "-o", c.out(), "--no-progress"}}) {
    auto r = run_measured(c, cmd);
    EXPECT_EQ(r.status, 4) << cmd[0] << ": " << r.output;
    EXPECT_NE(r.output.find("sent a reply larger than 16 MiB; refused"), std::string::npos)
        << cmd[0] << ": " << r.output;
    // 16 MiB of reply plus the process itself (45 MiB measured, 96 MiB under ASan); before the
    // fix: 1.8 GB.
    EXPECT_LT(r.max_rss_kib, 192 * 1024) << cmd[0] << ": peak RSS " << r.max_rss_kib << " KiB";
    std::printf("dfd %s against an endless reply: exit %d, peak RSS %ld KiB\n", cmd[0].c_str(),
                r.status, r.max_rss_kib);
  }
  EXPECT_FALSE(exists(c.out()));
}

// Issue 11 #5: libcurl followed any scheme a manifest named; a gopher:// location made it send
// raw bytes to another service. The manifest parser refuses such a location
// (client_hostile_input_test); here the engine gets one anyway (a Manifest built in code) and
// libcurl itself must refuse it: the listening service never sees a connection.
TEST(HostileManifest, LibcurlRefusesSchemesOtherThanHttp) {
  Cluster c(2 * kMiB);
  auto m = dfd::client::parse_manifest(dfd::test::manifest_for(c.file));
  dfd::test::TestServer victim("victim");
  std::string hostport = "127.0.0.1:" + std::to_string(victim.port());
  for (std::string scheme : {"gopher", "dict"})
    m.locations.push_back({scheme, "z", scheme + "://" + hostport, true});
  m.download_token = "dl-1";
  dfd::client::DownloadOptions o;
  o.output = c.out();
  o.max_failures = 2;
  o.backoff_base = std::chrono::milliseconds(1);
  auto rep = dfd::client::Downloader(m, o).run();
  EXPECT_EQ(rep.exit_code, dfd::client::exit_code::kIncomplete) << rep.error;
  EXPECT_EQ(victim.connections.load(), 0u);
  ASSERT_EQ(rep.servers.size(), 2u);
  for (const auto& s : rep.servers)
    EXPECT_NE(s.drop_reason.find("not supported"), std::string::npos) << s.drop_reason;
  EXPECT_FALSE(exists(c.out()));
}

// Through the CLI, such a location is refused with a clear message before anything is fetched.
TEST(HostileManifest, NonHttpLocationIsRefusedWithAClearMessage) {
  Cluster c(2 * kMiB);
  auto j = dfd::test::manifest_for(c.file);
  j["locations"] = {{{"server_id", "evil"}, {"url", "file:///etc"}}};
  j["download_token"] = "dl-1";
  dfd::test::write_file(c.dir.file("m.json"), j.dump());
  auto r = c.dfd({"get", "--manifest", c.dir.file("m.json"), "-o", c.out(), "--no-progress"});
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_NE(r.output.find("location 'evil' has URL 'file:///etc': only http:// and https:// URLs "
                          "are allowed"),
            std::string::npos)
      << r.output;
}

// A file server whose response headers never end is struck like any lying server; the download
// completes from the others and the client's memory stays bounded.
TEST(HostileFileServer, EndlessHeadersAreCut) {
  Cluster c(8 * kMiB);
  c.fs[1]->faults.endless_headers = true;
  c.login();
  auto r = run_measured(c, get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(read_file(c.out()) == *c.file.data);
  auto rep = report_of(r.output);
  auto* b = server_in(rep, "fs-b");
  ASSERT_NE(b, nullptr) << r.output;
  EXPECT_EQ((*b)["bytes"], 0);
  EXPECT_NE((*b)["last_error"].get<std::string>().find("response headers larger than 64 KiB"),
            std::string::npos)
      << r.output;
  EXPECT_LT(r.max_rss_kib, 128 * 1024);
}

namespace {
// Files in `dir` other than the config directory.
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename() != "config") out.push_back(e.path().filename().string());
  return out;
}

// Runs `dfd args` with the current directory set to the cluster's directory.
dfd::test::RunResult dfd_in_dir(Cluster& c, std::vector<std::string> args) {
  auto old = std::filesystem::current_path();
  std::filesystem::current_path(c.dir.path());
  auto r = c.dfd(std::move(args));
  std::filesystem::current_path(old);
  return r;
}

bool has_raw_control(const std::string& out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto ch = static_cast<unsigned char>(out[i]);
    if ((ch < 0x20 && ch != '\n') || ch == 0x7f) return true;
    if (ch == 0xc2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(out[i + 1]) <= 0x9f)
      return true;  // a C1 control in UTF-8
  }
  return false;
}
}  // namespace

// Issue 11 #8: a name with ESC, BEL, newline and a C1 control reached the terminal raw through
// `dfd ls`. It is printed escaped everywhere; `info` and `get` refuse such a manifest.
TEST(HostileInfoServer, ControlCharactersInNamesAreEscapedOrRefused) {
  Cluster c(2 * kMiB);
  c.login();
  c.rename_file("evil\x1b]0;pwned\x07\nX\xc2\x9bY\x7f.bin");
  auto ls = c.dfd({"ls"});
  ASSERT_EQ(ls.status, 0) << ls.output;
  EXPECT_FALSE(has_raw_control(ls.output)) << printable(ls.output);
  EXPECT_NE(ls.output.find("evil\\x1b]0;pwned\\x07\\nX\\u009bY\\x7f.bin"), std::string::npos)
      << ls.output;
  auto lj = c.dfd({"ls", "--json"});
  ASSERT_EQ(lj.status, 0) << lj.output;
  EXPECT_FALSE(has_raw_control(lj.output)) << printable(lj.output);
  EXPECT_EQ(json::parse(lj.output)["files"][0]["name"], c.file.name);  // JSON keeps the value

  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"info", "7"}, {"get", "7", "--no-progress"}}) {
    auto r = dfd_in_dir(c, cmd);
    EXPECT_EQ(r.status, 4) << cmd[0] << ": " << r.output;
    EXPECT_FALSE(has_raw_control(r.output)) << cmd[0] << ": " << printable(r.output);
    EXPECT_NE(r.output.find("'name' holds control characters"), std::string::npos) << r.output;
  }
  EXPECT_TRUE(files_in(c.dir.path()).empty());
}

// Issue 11 #8: a NUL in a manifest name collapsed the output, part and state paths (one run in
// five exited 0 "verified" with no file). Refused, nothing written.
TEST(HostileInfoServer, NulInANameIsRefused) {
  Cluster c(2 * kMiB);
  c.login();
  c.rename_file(std::string("movie.bin\0.dfd-part", 19));
  auto r = dfd_in_dir(c, {"get", "7", "--no-progress"});
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_NE(r.output.find("movie.bin\\x00.dfd-part"), std::string::npos) << r.output;
  EXPECT_TRUE(files_in(c.dir.path()).empty());
  EXPECT_EQ(c.served(), 0u);
}

// A name that is a path traversal is not used as the default output name: -o is needed. A clean
// relative catalog name ("videos/movie.bin") gives its last component.
TEST(HostileInfoServer, PathNamesNeedAnExplicitOutput) {
  Cluster c(2 * kMiB);
  c.login();
  for (std::string name : {"../escape.bin", "sub/../../escape.bin", "/tmp/escape.bin", ".."}) {
    c.rename_file(name);
    auto r = dfd_in_dir(c, {"get", "7", "--no-progress"});
    EXPECT_EQ(r.status, 2) << name << ": " << r.output;
    EXPECT_NE(r.output.find("is not usable as a local file name: give -o PATH"), std::string::npos)
        << r.output;
    EXPECT_TRUE(files_in(c.dir.path()).empty()) << name;
  }
  auto ok = c.dfd({"get", "7", "-o", c.out(), "--no-progress"});
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_TRUE(read_file(c.out()) == *c.file.data);
  c.rename_file("videos/movie.bin");
  auto nested = dfd_in_dir(c, {"get", "7", "--no-progress"});
  ASSERT_EQ(nested.status, 0) << nested.output;
  EXPECT_TRUE(read_file(c.dir.file("movie.bin")) == *c.file.data);
}

// Issue 11 #10: .dfd-part and state files followed planted symlinks (a victim file was truncated
// and overwritten). A link at any of the three paths is refused; the victim stays unchanged.
TEST(LocalFiles, PlantedSymlinksAreRefused) {
  Cluster c(4 * kMiB);
  c.login();
  std::string victim = c.dir.file("victim");
  for (const char* suffix : {".dfd-part", ".dfd-state", ".dfd-state.tmp"}) {
    dfd::test::write_file(victim, "precious");
    std::string link = c.out() + suffix;
    ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0);
    auto r = c.dfd(get_args(c));
    EXPECT_EQ(r.status, 9) << suffix << ": " << r.output;
    EXPECT_NE(r.output.find(link + " is a symbolic link"), std::string::npos) << r.output;
    EXPECT_TRUE(read_file(victim) == "precious") << suffix << ": the victim changed";
    EXPECT_FALSE(exists(c.out())) << suffix;
    ::unlink(link.c_str());
  }
  auto ok = c.dfd(get_args(c));
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_TRUE(read_file(c.out()) == *c.file.data);
}

// A part to resume that is a hard link to another file is refused too.
TEST(LocalFiles, HardLinkedPartIsRefused) {
  Cluster c(4 * kMiB);
  c.login();
  auto first = c.dfd(get_args(c, {"--stop-after-chunks", "1"}));
  ASSERT_EQ(first.status, 130) << first.output;
  std::string part = c.out() + ".dfd-part", victim = c.dir.file("victim");
  std::string before = read_file(part);
  ASSERT_EQ(::rename(part.c_str(), victim.c_str()), 0);
  ASSERT_EQ(::link(victim.c_str(), part.c_str()), 0);
  auto r = c.dfd(get_args(c));
  EXPECT_EQ(r.status, 9) << r.output;
  EXPECT_NE(r.output.find("has other hard links"), std::string::npos) << r.output;
  EXPECT_TRUE(read_file(victim) == before) << "the hard-linked victim changed";
}

// Client disk full (issue 11 suite): a download that does not fit says how much space it needs
// before fetching anything; a disk that fills up later keeps the verified chunks; a rerun with
// room completes.
TEST(LocalFiles, DiskFullNamesTheSpaceNeededAndKeepsVerifiedChunks) {
  Cluster c(24 * kMiB);
  dfd::test::SmallDisk disk(c.dir.file("small"), "32m");
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  c.login();
  std::string out = c.dir.file("small/out.bin"), filler = c.dir.file("small/filler");
  auto args = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"get", "7", "-o", out, "--json", "--no-progress"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  // 1. 12 MiB taken: 24 MiB do not fit. Refused up front, naming both figures; nothing fetched.
  dfd::test::write_file(filler, std::string(12 * kMiB, 'f'));
  auto r = c.dfd(args({}));
  EXPECT_EQ(r.status, 9) << r.output;
  EXPECT_NE(r.output.find("not enough free space for " + out +
                          ".dfd-part: the download needs "
                          "24.0 MiB (25165824 bytes) more"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(" free; make room"), std::string::npos) << r.output;
  EXPECT_EQ(c.served(), 0u);
  EXPECT_FALSE(exists(out + ".dfd-part"));
  // 2. Room: part of the file is fetched, then the disk fills up to the last byte.
  ::unlink(filler.c_str());
  auto part = c.dfd(args({"--stop-after-chunks", "8"}));
  ASSERT_EQ(part.status, 130) << part.output;
  auto kept = dfd::client::load_state(out + ".dfd-state");
  ASSERT_TRUE(kept.has_value());
  ASSERT_GE(kept->verified_count(), 8u);
  disk.fill(filler);
  auto full = c.dfd(args({}));
  EXPECT_EQ(full.status, 9) << full.output;
  EXPECT_NE(full.output.find("No space left on device"), std::string::npos) << full.output;
  auto still = dfd::client::load_state(out + ".dfd-state");
  ASSERT_TRUE(still.has_value()) << full.output;
  EXPECT_GE(still->verified_count(), kept->verified_count());
  EXPECT_FALSE(exists(out));
  // 3. Room again: the rerun resumes the kept chunks and completes.
  ::unlink(filler.c_str());
  auto done = c.dfd(args({}));
  ASSERT_EQ(done.status, 0) << done.output;
  EXPECT_TRUE(read_file(out) == *c.file.data);
  EXPECT_GE(report_of(done.output)["chunks_resumed"].get<std::size_t>(), kept->verified_count());
}

// Issue 13: a disk that fills up before any chunk is verified. The part was not preallocated
// (only what arrived is allocated), the message names the path, the bytes still needed and the
// bytes free (exit 9, in the --json report too), and nothing useless is left: no part, no state.
TEST(LocalFiles, DiskFullBeforeAnyVerifiedChunkKeepsNothing) {
  Cluster c(6 * kMiB);
  dfd::test::SmallDisk disk(c.dir.file("small"), "8m");
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  c.login();
  // Every server stops after 512 KiB (no 1 MiB chunk completes) until released.
  for (auto& s : c.fs) s->faults.stall_after = 512 << 10;
  std::string out = c.dir.file("small/out.bin"), part = out + ".dfd-part";
  std::vector<std::string> args = {
      dfd::test::bin("dfd"), "get", "7", "-o", out, "--json", "--no-progress",
      "--stall-timeout",     "30"};
  dfd::test::Process p(args, c.env);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto stalled = [&] {
    for (auto& s : c.fs)
      if (s->body_bytes.load() < (512u << 10)) return false;
    return exists(part);
  };
  while (!stalled() && p.running() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(stalled()) << p.log();
  struct stat st {};
  ASSERT_EQ(::stat(part.c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), 6 * kMiB);
  EXPECT_LT(static_cast<std::uint64_t>(st.st_blocks) * 512, 6 * kMiB) << "preallocated too early";
  dfd::test::SmallDisk::fill(c.dir.file("small/filler"));
  for (auto& s : c.fs) {
    s->faults.stall_after = -1;
    s->release_stall();
  }
  ASSERT_EQ(p.wait(std::chrono::seconds(60)), 9) << p.log();
  auto rep = report_of(p.log());
  ASSERT_TRUE(rep.is_object()) << p.log();
  EXPECT_EQ(rep["ok"], false);
  EXPECT_EQ(rep["exit_code"], 9);
  EXPECT_EQ(rep["chunks_fetched"], 0);
  std::string error = rep["error"].get<std::string>();
  std::printf("disk full mid-download: %s\n", error.c_str());
  EXPECT_NE(error.find("cannot write " + part + " (No space left on device): the download needs "),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(" bytes) more, " + c.dir.file("small") + " has "), std::string::npos)
      << error;
  EXPECT_NE(error.find(" bytes) free; make room"), std::string::npos) << error;
  EXPECT_FALSE(exists(part));
  EXPECT_FALSE(exists(out + ".dfd-state"));
  EXPECT_FALSE(exists(out));
}

// Issue 11 #11: a server sending a few bytes a second (never silent, never stalled) held its
// chunks forever. With a minimum rate per request its chunks go to the other servers.
TEST(HostileFileServer, TricklingServerLosesItsChunksToTheOthers) {
  Cluster c(24 * kMiB);
  c.fs[2]->faults.trickle_after = 0;
  c.fs[2]->faults.trickle_interval_ms = 20;          // 50 bytes/s, a byte every 20 ms: never silent
  for (int i : {0, 1}) c.fs[i]->faults.rate = kMiB;  // the others: ~3 s for the whole file
  c.login();
  auto r = c.dfd(get_args(c, {"--min-speed", "1024", "--min-speed-time", "1"}));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(read_file(c.out()) == *c.file.data);
  auto rep = report_of(r.output);
  auto* s = server_in(rep, "fs-c");
  ASSERT_NE(s, nullptr) << r.output;
  EXPECT_EQ((*s)["bytes"], 0) << r.output;
  EXPECT_GE((*s)["retries"].get<int>(), 1) << r.output;
  EXPECT_NE((*s)["last_error"].get<std::string>().find("too slow"), std::string::npos) << r.output;
}

// Only trickling servers: the minimum rate alone ends the download (exit 7, each server named
// "too slow") instead of waiting forever.
TEST(HostileFileServer, OnlyTricklingServersEndTheDownload) {
  Cluster c(8 * kMiB);
  for (auto& s : c.fs) {
    s->faults.trickle_after = 0;
    s->faults.trickle_interval_ms = 50;
  }
  c.login();
  auto args = get_args(c, {"--min-speed", "1024", "--min-speed-time", "1"});
  args.insert(args.begin(), dfd::test::bin("dfd"));
  dfd::test::Process p(args, c.env);
  ASSERT_EQ(p.wait(std::chrono::seconds(90)), 7) << p.log();
  EXPECT_NE(p.log().find("every file server failed"), std::string::npos) << p.log();
  EXPECT_NE(p.log().find("too slow"), std::string::npos) << p.log();
}

// Issue 11 #11: --deadline ends a download held by trickling servers in bounded time; the chunks
// verified before are kept and a rerun resumes them.
TEST(HostileFileServer, DeadlineEndsTheDownloadAndKeepsVerifiedChunks) {
  Cluster c(24 * kMiB);
  for (auto& s : c.fs) {
    s->faults.trickle_after = 3 * static_cast<std::int64_t>(kMiB);
    s->faults.trickle_interval_ms = 100;  // 10 bytes/s after the first 3 MiB of each server
  }
  c.login();
  // One connection per server: each server's first 3 MiB are 3 whole chunks, verified for sure.
  auto args = get_args(c, {"--deadline", "3", "--per-server", "1"});
  args.insert(args.begin(), dfd::test::bin("dfd"));
  dfd::test::Process p(args, c.env);
  ASSERT_EQ(p.wait(std::chrono::seconds(60)), 10) << p.log();
  EXPECT_NE(p.log().find("the deadline of 3 s passed;"), std::string::npos) << p.log();
  EXPECT_NE(p.log().find("chunks are verified and kept for a rerun"), std::string::npos);
  EXPECT_FALSE(exists(c.out()));
  auto st = dfd::client::load_state(c.out() + ".dfd-state");
  ASSERT_TRUE(st.has_value()) << p.log();
  EXPECT_GE(st->verified_count(), 6u) << p.log();
  for (auto& s : c.fs) s->faults.trickle_after = -1;
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(read_file(c.out()) == *c.file.data);
  EXPECT_EQ(report_of(r.output)["chunks_resumed"].get<std::size_t>(), st->verified_count());
}

// --deadline also bounds the wait for an info server that never answers the manifest.
TEST(HostileInfoServer, DeadlineCoversTheInfoServer) {
  Cluster c(2 * kMiB);
  c.login();
  c.info.faults.stall_info = true;
  auto r = c.dfd({"get", "7", "-o", c.out(), "--no-progress", "--deadline", "1.5"});
  c.info.release_stall();
  EXPECT_EQ(r.status, 10) << r.output;
  EXPECT_NE(r.output.find("file 7: the deadline of 1.5 s passed"), std::string::npos) << r.output;
  EXPECT_FALSE(exists(c.out() + ".dfd-part"));
}

// A --manifest file is read within the same limits; a good one still downloads.
TEST(HostileManifest, ManifestFileWithinLimits) {
  Cluster c(2 * kMiB);
  auto m = dfd::test::manifest_of(c.file);
  m.locations = c.locs;
  m.download_token = "dl-1";
  const std::string text = dfd::wire::encode_manifest(m);
  std::string path = c.dir.file("m.json");
  dfd::test::write_file(path, text + std::string(17 * kMiB, ' '));
  auto big = c.dfd({"get", "--manifest", path, "-o", c.out(), "--no-progress"});
  EXPECT_EQ(big.status, 4) << big.output;
  EXPECT_NE(big.output.find("larger than 16 MiB"), std::string::npos) << big.output;
  dfd::test::write_file(path, text);
  auto ok = c.dfd({"get", "--manifest", path, "-o", c.out(), "--no-progress"});
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_TRUE(read_file(c.out()) == *c.file.data);
}
