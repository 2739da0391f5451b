// Unit tests of where `dfd get` writes (issue 13): -o / -d resolution, safe names, folders created,
// the output lock, and the -o - stream writer (with a real pipe and a real sparse file).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "chunk_planner.hpp"
#include "harness.hpp"
#include "output_lock.hpp"
#include "output_path.hpp"
#include "stdout_stream.hpp"
#include "util.hpp"

using namespace dfd::client;
using dfd::test::TempDir;

namespace {
int code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const CliError& e) {
    EXPECT_TRUE(is_printable_text(e.what())) << e.what();
    return e.exit_code;
  }
  return 0;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const CliError& e) {
    return e.what();
  }
  return "";
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}
}  // namespace

TEST(SafeFileName, KeepsTheNameInsideTheFolder) {
  EXPECT_EQ(safe_file_name("movie.bin"), "movie.bin");
  EXPECT_EQ(safe_file_name("videos/2026/movie.bin"), "movie.bin");
  EXPECT_EQ(safe_file_name(".bashrc"), "bashrc");
  EXPECT_EQ(safe_file_name("a/..hidden"), "hidden");
  EXPECT_EQ(safe_file_name("a.b.c"), "a.b.c");
  for (const std::string& n :
       std::vector<std::string>{"", ".", "..", "...", "a/...", "../x", "a/../../b", "/etc/passwd",
                                "a/", "x\x1b[2J", "x\ny", "x\xc2\x85y", std::string(256, 'x')})
    EXPECT_EQ(code_of([&] { safe_file_name(n); }), exit_code::kUsage) << printable(n);
  EXPECT_NE(message_of([] { safe_file_name("..."); }).find("give -o PATH"), std::string::npos);
}

TEST(ResolveOutputPath, FileFolderAndDirOptions) {
  TempDir t;
  std::string d = t.path();
  EXPECT_EQ(resolve_output_path("", "", "videos/movie.bin"), "movie.bin");
  EXPECT_EQ(resolve_output_path("out.bin", "", "movie.bin"), "out.bin");
  EXPECT_EQ(resolve_output_path(d + "/x.bin", "", "movie.bin"), d + "/x.bin");
  // An existing directory, with or without the slash; a missing one only with the slash.
  EXPECT_EQ(resolve_output_path(d, "", "movie.bin"), d + "/movie.bin");
  EXPECT_EQ(resolve_output_path(d + "/", "", "movie.bin"), d + "/movie.bin");
  EXPECT_EQ(resolve_output_path(d + "/new/", "", "movie.bin"), d + "/new/movie.bin");
  EXPECT_EQ(resolve_output_path(d + "/new", "", "movie.bin"), d + "/new");
  EXPECT_EQ(resolve_output_path(".", "", "movie.bin"), "./movie.bin");
  // -d DIR, alone or with a relative -o.
  EXPECT_EQ(resolve_output_path("", d, "a/movie.bin"), d + "/movie.bin");
  EXPECT_EQ(resolve_output_path("", d + "/", "movie.bin"), d + "/movie.bin");
  EXPECT_EQ(resolve_output_path("x.bin", d, "movie.bin"), d + "/x.bin");
  EXPECT_EQ(resolve_output_path("sub/", d, "movie.bin"), d + "/sub/movie.bin");
  EXPECT_EQ(code_of([&] { resolve_output_path("/abs.bin", d, "movie.bin"); }), exit_code::kUsage);
  // The manifest's name never leaves the folder.
  EXPECT_EQ(resolve_output_path("", d, ".profile"), d + "/profile");
  EXPECT_EQ(code_of([&] { resolve_output_path("", d, "../../etc/passwd"); }), exit_code::kUsage);
  EXPECT_EQ(code_of([&] { resolve_output_path(d + "/", "", "/etc/passwd"); }), exit_code::kUsage);
  // -o FILE names one file: refused for several; a folder is fine.
  EXPECT_EQ(code_of([&] { resolve_output_path("out.bin", "", "a", true); }), exit_code::kUsage);
  EXPECT_EQ(resolve_output_path(d, "", "a", true), d + "/a");
  EXPECT_EQ(resolve_output_path("", d, "a", true), d + "/a");
  // -o - is not a path.
  EXPECT_EQ(code_of([&] { resolve_output_path("-", "", "a"); }), exit_code::kUsage);
  EXPECT_EQ(code_of([&] { resolve_output_path("-", d, "a"); }), exit_code::kUsage);
}

TEST(ResolveOutputPath, KnownWithoutTheNameOnlyForAFile) {
  TempDir t;
  std::string d = t.path();
  EXPECT_EQ(output_path_without_name("out.bin", ""), std::optional<std::string>("out.bin"));
  EXPECT_EQ(output_path_without_name("out.bin", d), std::optional<std::string>(d + "/out.bin"));
  EXPECT_EQ(output_path_without_name("", ""), std::nullopt);
  EXPECT_EQ(output_path_without_name("", d), std::nullopt);
  EXPECT_EQ(output_path_without_name(d, ""), std::nullopt);
  EXPECT_EQ(output_path_without_name(d + "/new/", ""), std::nullopt);
  EXPECT_EQ(output_path_without_name("-", ""), std::nullopt);
  EXPECT_EQ(code_of([&] { output_path_without_name("/x", d); }), exit_code::kUsage);
}

TEST(CreateParentFolders, MkdirPAndSaysWhich) {
  TempDir t;
  std::string f = t.file("a/b/c/file.bin");
  EXPECT_EQ(create_parent_folders(f), t.file("a/b/c"));
  struct stat st {};
  ASSERT_EQ(::stat(t.file("a/b/c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(create_parent_folders(f), "");
  EXPECT_EQ(create_parent_folders("relative.bin"), "");
  dfd::test::write_file(t.file("plain"), "x");
  std::string m = message_of([&] { create_parent_folders(t.file("plain/sub/file.bin")); });
  EXPECT_NE(m.find("cannot create the folder " + t.file("plain")), std::string::npos) << m;
  EXPECT_EQ(code_of([&] { create_parent_folders(t.file("plain/sub/file.bin")); }),
            exit_code::kLocalIo);
}

TEST(ClaimOutput, ExistingFileLockAndForce) {
  TempDir t;
  std::string out = t.file("new/dir/out.bin");
  {
    OutputLock lock = claim_output(out, false);
    EXPECT_TRUE(lock.held());
    EXPECT_EQ(lock.lock_path(), out + ".dfd-lock");
    std::string text = dfd::test::read_file(out + ".dfd-lock");
    EXPECT_NE(text.find("pid " + std::to_string(::getpid())), std::string::npos) << text;
    // A second claim (its own open file description) is refused, naming the holder.
    std::string m = message_of([&] { claim_output(out, false); });
    EXPECT_NE(m.find(out + " is being downloaded by dfd pid " + std::to_string(::getpid())),
              std::string::npos)
        << m;
    EXPECT_NE(m.find(" since "), std::string::npos) << m;
    EXPECT_NE(m.find("(" + out + ".dfd-lock)"), std::string::npos) << m;
    EXPECT_EQ(code_of([&] { claim_output(out, true); }), exit_code::kLocked);
  }
  EXPECT_FALSE(exists(out + ".dfd-lock"));  // removed on release
  dfd::test::write_file(out, "old");
  EXPECT_EQ(code_of([&] { claim_output(out, false); }), exit_code::kExists);
  EXPECT_FALSE(exists(out + ".dfd-lock"));
  EXPECT_TRUE(claim_output(out, true).held());
  ::mkdir(t.file("folder").c_str(), 0755);
  EXPECT_EQ(code_of([&] { claim_output(t.file("folder"), true); }), exit_code::kExists);
}

TEST(OutputLock, StaleFileIsTakenUnsafeFilesAreRefused) {
  TempDir t;
  std::string out = t.file("out.bin");
  dfd::test::write_file(out + ".dfd-lock", "dfd-lock\npid 999999\nhost gone\nsince 1\n");
  {
    OutputLock lock = OutputLock::acquire(out);  // nobody holds its flock: stale
    EXPECT_TRUE(lock.held());
    EXPECT_NE(dfd::test::read_file(out + ".dfd-lock").find("pid " + std::to_string(::getpid())),
              std::string::npos);
  }
  dfd::test::write_file(t.file("victim"), "precious");
  ASSERT_EQ(::symlink(t.file("victim").c_str(), (out + ".dfd-lock").c_str()), 0);
  EXPECT_EQ(code_of([&] { OutputLock::acquire(out); }), exit_code::kLocalIo);
  ::unlink((out + ".dfd-lock").c_str());
  ASSERT_EQ(::link(t.file("victim").c_str(), (out + ".dfd-lock").c_str()), 0);
  EXPECT_EQ(code_of([&] { OutputLock::acquire(out); }), exit_code::kLocalIo);
  EXPECT_EQ(dfd::test::read_file(t.file("victim")), "precious");
}

TEST(OutputLock, DescribesTheHolderSafely) {
  std::time_t now = std::time(nullptr);
  std::string text =
      "dfd-lock\npid 1234\nhost build-7\nsince " + std::to_string(static_cast<long long>(now));
  std::string d = describe_lock_holder(text);
  EXPECT_EQ(d.rfind("dfd pid 1234 on build-7 since ", 0), 0u) << d;
  EXPECT_EQ(d.size(), std::string("dfd pid 1234 on build-7 since 07:12:03").size()) << d;
  EXPECT_EQ(describe_lock_holder(""), "another dfd");
  EXPECT_EQ(describe_lock_holder("garbage"), "another dfd");
  EXPECT_EQ(describe_lock_holder("dfd-lock\npid 12;rm\n"), "another dfd");
  std::string evil = describe_lock_holder("dfd-lock\npid 1\nhost \x1b]0;owned\x07\n");
  EXPECT_TRUE(is_printable_text(evil)) << evil;
  EXPECT_EQ(describe_lock_holder("dfd-lock\npid 7\nsince 0\n").rfind("dfd pid 7 since ", 0), 0u);
}

TEST(StdoutStreaming, RefusesWhatItCannotDo) {
  EXPECT_EQ(code_of([] { check_stdout_streaming(true, "", 1, false); }), exit_code::kUsage);
  EXPECT_EQ(code_of([] { check_stdout_streaming(false, "d", 1, false); }), exit_code::kUsage);
  EXPECT_EQ(code_of([] { check_stdout_streaming(false, "", 0, false); }), exit_code::kUsage);
  EXPECT_EQ(code_of([] { check_stdout_streaming(false, "", 2, false); }), exit_code::kUsage);
  EXPECT_EQ(code_of([] { check_stdout_streaming(false, "", 1, true); }), exit_code::kUsage);
  EXPECT_EQ(code_of([] { check_stdout_streaming(false, "", 1, false); }), 0);
  EXPECT_EQ(StdoutStream::window_for(1 << 20), std::uint64_t{64} << 20);
  EXPECT_EQ(StdoutStream::window_for(std::uint64_t{16} << 20), std::uint64_t{256} << 20);
}

// The writer alone: a part file filled by hand, a real pipe as stdout (read by a thread).
TEST(StdoutStreaming, WritesThePrefixInOrderAndPunchesItOut) {
  TempDir t;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) got.append(buf, n);
  });
  std::string folder;
  std::string data(3 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 4096);
  ::setenv("TMPDIR", t.path().c_str(), 1);
  {
    StdoutStream s(p[1]);
    ::unsetenv("TMPDIR");
    folder = s.folder();
    struct stat st {};
    ASSERT_EQ(::stat(folder.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(folder.rfind(t.path() + "/dfd-stream-", 0), 0u) << folder;
    DownloadOptions o;
    int stops = 0;
    s.configure(o, 1 << 20, 0, [&] { ++stops; });
    EXPECT_FALSE(o.preallocate);
    EXPECT_EQ(o.window_bytes, std::uint64_t{64} << 20);
    EXPECT_EQ(o.output.rfind(folder + "/", 0), 0u);
    dfd::test::write_file(o.output + ".dfd-part", data);  // 3 MiB in the part
    ASSERT_EQ(::stat((o.output + ".dfd-part").c_str(), &st), 0);
    auto before = st.st_blocks;
    o.on_prefix(1 << 20);
    o.on_prefix(1 << 20);  // nothing new
    o.on_prefix(3 << 20);
    EXPECT_EQ(s.written(), data.size());
    ASSERT_EQ(::stat((o.output + ".dfd-part").c_str(), &st), 0);
    EXPECT_LT(st.st_blocks, before / 4) << "streamed bytes are punched out";
    EXPECT_EQ(st.st_size, static_cast<off_t>(data.size()));
    EXPECT_GE(s.peak_disk(), std::uint64_t{2} << 20);
    EXPECT_EQ(stops, 0);
    EXPECT_EQ(s.error(), "");
    DownloadReport r;
    r.ok = true;
    r.exit_code = 0;
    s.finish(r);
    EXPECT_EQ(r.path, "-");
    EXPECT_TRUE(r.ok);
    EXPECT_NE(s.summary().find("streamed 3.0 MiB to stdout"), std::string::npos) << s.summary();
  }
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  EXPECT_TRUE(got == data) << got.size();
  EXPECT_FALSE(exists(folder)) << "the private folder is removed";
}

TEST(StdoutStreaming, ReaderGoneStopsTheDownload) {
  ::signal(SIGPIPE, SIG_IGN);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ::close(p[0]);  // the reader went away (like `| head -c 100` after its 100 bytes)
  StdoutStream s(p[1]);
  DownloadOptions o;
  int stops = 0;
  s.configure(o, 1 << 20, 4 << 20, [&] { ++stops; });
  EXPECT_EQ(o.window_bytes, std::uint64_t{4} << 20);
  dfd::test::write_file(o.output + ".dfd-part", std::string(1 << 20, 'x'));
  o.on_prefix(1 << 20);
  o.on_prefix(1 << 20);
  EXPECT_EQ(stops, 1);
  EXPECT_NE(s.error().find("stdout was closed by its reader"), std::string::npos) << s.error();
  DownloadReport r;
  r.ok = true;
  r.exit_code = 0;
  s.finish(r);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.exit_code, exit_code::kLocalIo);
  ::close(p[1]);
}

// What the engine's streaming window looks at: the chunk assign() hands out next.
TEST(StdoutStreaming, PlannerTellsTheNextFreshChunk) {
  ChunkPlanner p(4);
  auto now = ChunkPlanner::Clock::now();
  EXPECT_EQ(p.first_unassigned(), std::optional<std::size_t>(0));
  p.mark_verified(1);
  ASSERT_EQ(p.assign(7, now), std::optional<std::size_t>(0));
  EXPECT_EQ(p.first_unassigned(), std::optional<std::size_t>(2));
  p.release(0, 7);
  EXPECT_EQ(p.first_unassigned(), std::optional<std::size_t>(0));
  for (std::size_t c : {0, 2, 3}) {
    ASSERT_EQ(p.assign(7, now), std::optional<std::size_t>(c));
  }
  EXPECT_EQ(p.first_unassigned(), std::nullopt);
}
