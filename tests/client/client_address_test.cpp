// Issue 13 (address), on a real all-in-one dfd-host (info-sqlite, auth-sqlite, broker-local,
// storage-fs; tests/info/aio_host.hpp) and the real `dfd`: files named on the command line by
// name, uid prefix or id; an ambiguous uid prefix and an ambiguous name (the same name, other
// bytes) list their candidates; three files in one command, one after another and --parallel;
// `dfd ls GLOB` with the LIVE column; --json prints exactly one JSON document on stdout for every
// failure, with the exit code; catalog ids survive a restart of the deployment.
//
// Files are added while the host runs (written into its storage root, then SIGHUP: a rescan), in
// the order z, m, a: the restart announces them sorted (a, m, z), another order.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aio_host.hpp"
#include "cli_cluster.hpp"
#include "harness.hpp"
#include "test_file_server.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kExitUsage = 2, kExitAuth = 3, kExitServer = 4, kExitNotFound = 5, kExitExists = 6,
              kExitLocalIo = 9, kExitThrottled = 13, kExitAmbiguous = 14, kExitInterrupted = 130;

// Two contents whose sha256 share the first 6 hex digits "fd1af8" (found by trying
// "ambiguous prefix sample N\n" for N = 0, 1, ...).
const char* kPrefixA = "ambiguous prefix sample 1596\n";
const char* kPrefixB = "ambiguous prefix sample 2364\n";
const char* kSharedPrefix = "fd1af8";

std::string sha256(const std::string& s) {
  return digest_hex("sha256", s.data(), s.size());
}

std::string random_text(std::size_t n, unsigned seed) {
  auto bytes = random_bytes(n, seed);
  return std::string(bytes->begin(), bytes->end());
}

// stdout and stderr of one dfd run, apart.
struct Split {
  int status = -1;
  std::string out, err;
  json doc() const { return json::parse(out, nullptr, false); }  // all of stdout, or discarded
};

class Address : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    host_ = new AioHost("hello from the address test\n", "");
    if (!host_->ready) return;
    home_ = new TempDir();
    auto r = dfd_in(*host_, {"login", "--email", "admin@example.com", "--password-stdin"},
                    "admin-password-1\n");
    if (r.status != 0) {
      ADD_FAILURE() << r.out << r.err;
      return;
    }
    contents_ = new std::map<std::string, std::string>{{"z-last.bin", random_text(700 * 1024, 1)},
                                                       {"m-mid.bin", random_text(300 * 1024, 2)},
                                                       {"a-first.bin", random_text(500 * 1024, 3)},
                                                       {"pfx-1.dat", kPrefixA},
                                                       {"pfx-2.dat", kPrefixB},
                                                       {"dup.txt", "the first dup.txt\n"}};
    // One at a time, so the catalog ids follow this order (not the sorted one of a restart).
    for (const char* name :
         {"z-last.bin", "m-mid.bin", "a-first.bin", "pfx-1.dat", "pfx-2.dat", "dup.txt"}) {
      if (!add_file(name, contents_->at(name))) return;
    }
    // dup.txt rewritten: the catalog keeps the first bytes (no live server) and lists the new ones
    // under the same name.
    (*contents_)["dup.txt"] = "the second dup.txt, other bytes\n";
    add_file("dup.txt", contents_->at("dup.txt"));
    ready_ = true;
  }
  static void TearDownTestSuite() {
    delete host_;
    delete home_;
    delete contents_;
    host_ = nullptr;
    home_ = nullptr;
    contents_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(host_, nullptr);
    ASSERT_TRUE(host_->ready) << host_->host->log();
    ASSERT_TRUE(ready_) << host_->host->log();
    out_ = std::make_unique<TempDir>();
  }

  static std::map<std::string, std::string> env_of(const TempDir& home) {
    return {{"XDG_CONFIG_HOME", home.file("config")}, {"HOME", home.path()}};
  }
  // dfd --server HOST ARGS with the suite's login (or `home`'s).
  static Split dfd_in(const AioHost& h, std::vector<std::string> args, const std::string& in = "",
                      const TempDir* home = nullptr) {
    const TempDir& dir = home ? *home : *home_;
    std::string err_file = dir.file("stderr.txt");
    args.insert(args.begin(), {"sh", "-c", "exec \"$0\" \"$@\" 2>\"$DFD_TEST_ERR\"", bin("dfd"),
                               "--server", h.base});
    auto env = env_of(dir);
    env["DFD_TEST_ERR"] = err_file;
    auto r = run(args, in, env);
    return {r.status, r.output, read_file(err_file)};
  }
  Split dfd(std::vector<std::string> args, const std::string& in = "") {
    return dfd_in(*host_, std::move(args), in);
  }

  // The catalog as `dfd ls --json` lists it (null on failure).
  static json listing() {
    auto r = dfd_in(*host_, {"ls", "--json"});
    auto j = r.doc();
    return r.status == 0 && j.is_object() ? j : json();
  }
  // The listed entry with this uid (null if none).
  static json entry_of_uid(const json& list, const std::string& uid) {
    for (const auto& f : list["files"])
      if (f["uid"] == uid) return f;
    return json();
  }

  // Writes `name` into the storage root, rescans (SIGHUP) and waits until the catalog lists its
  // bytes as available.
  static bool add_file(const std::string& name, const std::string& content) {
    write_file(host_->dir.file("files/" + name), content);
    auto end = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < end) {
      host_->host->signal(SIGHUP);
      auto e = entry_of_uid(listing(), sha256(content));
      if (e.is_object() && e["available"] == true) return true;
      std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << name << " never listed: " << host_->host->log();
    return false;
  }

  std::string content(const std::string& name) const { return contents_->at(name); }
  std::string out(const std::string& name) const { return out_->file(name); }

  static AioHost* host_;
  static TempDir* home_;
  static std::map<std::string, std::string>* contents_;
  static bool ready_;
  std::unique_ptr<TempDir> out_;
};
AioHost* Address::host_ = nullptr;
TempDir* Address::home_ = nullptr;
std::map<std::string, std::string>* Address::contents_ = nullptr;
bool Address::ready_ = false;

TEST_F(Address, GetByName) {
  auto r = dfd({"get", "a-first.bin", "-o", out("a.bin"), "--json", "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(read_file(out("a.bin")), content("a-first.bin"));
  auto j = r.doc();
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["file"], "a-first.bin");
  EXPECT_EQ(j["name"], "a-first.bin");
  EXPECT_EQ(j["uid"], sha256(content("a-first.bin")));
  // Without -o: the name in the current directory.
  auto here =
      run({"sh", "-c", "cd \"$0\" && exec \"$1\" --server \"$2\" get m-mid.bin --no-progress",
           out_->path(), bin("dfd"), host_->base},
          "", env_of(*home_));
  ASSERT_EQ(here.status, 0) << here.output;
  EXPECT_EQ(read_file(out("m-mid.bin")), content("m-mid.bin"));
  // dfd info takes a name too.
  auto info = dfd({"info", "z-last.bin", "--json"});
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_EQ(info.doc()["uid"], sha256(content("z-last.bin")));
}

TEST_F(Address, GetByUidPrefix) {
  std::string uid = sha256(content("z-last.bin"));
  for (const std::string& arg : {uid.substr(0, 8), "uid:" + uid.substr(0, 10), uid}) {
    std::string path = out("z-" + std::to_string(arg.size()) + ".bin");
    auto r = dfd({"get", arg, "-o", path, "--no-progress"});
    ASSERT_EQ(r.status, 0) << arg << ": " << r.out << r.err;
    EXPECT_EQ(read_file(path), content("z-last.bin")) << arg;
  }
}

TEST_F(Address, AmbiguousUidPrefixListsTheCandidates) {
  ASSERT_EQ(sha256(kPrefixA).substr(0, 6), kSharedPrefix);
  ASSERT_EQ(sha256(kPrefixB).substr(0, 6), kSharedPrefix);
  auto list = listing();
  auto a = entry_of_uid(list, sha256(kPrefixA));
  auto b = entry_of_uid(list, sha256(kPrefixB));
  ASSERT_TRUE(a.is_object() && b.is_object()) << list.dump();

  auto r = dfd({"get", kSharedPrefix, "-o", out("p.dat"), "--no-progress"});
  EXPECT_EQ(r.status, kExitAmbiguous) << r.out << r.err;
  EXPECT_NE(r.err.find("the uid prefix 'fd1af8' matches 2 files"), std::string::npos) << r.err;
  for (const auto& e : {a, b}) {
    EXPECT_NE(r.err.find(e["name"].get<std::string>()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(e["uid"].get<std::string>().substr(0, 12)), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("  " + std::to_string(e["id"].get<int>()) + "  "), std::string::npos)
        << r.err;
  }
  EXPECT_NE(r.err.find("29 B"), std::string::npos) << r.err;  // the size
  EXPECT_NE(::access(out("p.dat").c_str(), F_OK), 0);

  r = dfd({"get", kSharedPrefix, "-o", out("p.dat"), "--json"});
  EXPECT_EQ(r.status, kExitAmbiguous);
  auto j = r.doc();
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["exit_code"], kExitAmbiguous);
  ASSERT_EQ(j["candidates"].size(), 2u) << j.dump();
  EXPECT_EQ(j["candidates"][0]["uid"].get<std::string>().substr(0, 6), kSharedPrefix);

  // One more digit of either uid picks it.
  std::string longer = sha256(kPrefixB).substr(0, 8);
  r = dfd({"get", longer, "-o", out("p.dat"), "--no-progress"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(out("p.dat")), kPrefixB);
}

TEST_F(Address, NameOfTwoDifferentFilesIsAmbiguousAndLsShowsWhichIsLive) {
  auto r = dfd({"get", "dup.txt", "-o", out("dup.txt"), "--json"});
  EXPECT_EQ(r.status, kExitAmbiguous) << r.out << r.err;
  auto j = r.doc();
  ASSERT_TRUE(j.is_object()) << r.out;
  ASSERT_EQ(j["candidates"].size(), 2u);
  EXPECT_NE(j["error"].get<std::string>().find("same name"), std::string::npos);

  // ls dup.txt: both entries, the rewritten one live, the first one not.
  auto ls = dfd({"ls", "dup.txt", "--json"});
  ASSERT_EQ(ls.status, 0) << ls.err;
  auto lj = ls.doc();
  ASSERT_EQ(lj["files"].size(), 2u) << ls.out;
  auto live = entry_of_uid(lj, sha256(content("dup.txt")));
  auto gone = entry_of_uid(lj, sha256("the first dup.txt\n"));
  ASSERT_TRUE(live.is_object() && gone.is_object()) << ls.out;
  EXPECT_EQ(live["available"], true);
  EXPECT_EQ(gone["available"], false);
  auto text = dfd({"ls", "dup.*"});
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("LIVE"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" yes "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" no "), std::string::npos) << text.out;

  // The id picks one of them.
  r = dfd({"get", std::to_string(live["id"].get<int>()), "-o", out("dup.txt"), "--no-progress"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(out("dup.txt")), content("dup.txt"));
}

TEST_F(Address, LsGlob) {
  auto r = dfd({"ls", "*.bin", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = r.doc();
  std::vector<std::string> names;
  for (const auto& f : j["files"]) names.push_back(f["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"z-last.bin", "m-mid.bin", "a-first.bin"}));
  EXPECT_EQ(j["total"], 3);
  r = dfd({"ls", "hello.*", "pfx-?.dat"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("hello.txt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pfx-1.dat"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(".bin"), std::string::npos) << r.out;
  r = dfd({"ls", "nothing*"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "no files match\n");
}

// Three files by name, uid prefix and id, into one folder: one after another, then at once.
TEST_F(Address, ThreeFilesInOneCommand) {
  auto list = listing();
  std::string z_id =
      std::to_string(entry_of_uid(list, sha256(content("z-last.bin")))["id"].get<int>());
  std::string m_prefix = sha256(content("m-mid.bin")).substr(0, 7);
  for (const std::vector<std::string>& mode :
       {std::vector<std::string>{}, std::vector<std::string>{"--parallel", "3"}}) {
    TempDir dir;
    std::vector<std::string> args = {"get", "a-first.bin",    m_prefix,       z_id,
                                     "-o",  dir.path() + "/", "--no-progress"};
    args.insert(args.end(), mode.begin(), mode.end());
    auto r = dfd(args);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    for (const char* name : {"a-first.bin", "m-mid.bin", "z-last.bin"})
      EXPECT_EQ(read_file(dir.file(name)), content(name)) << name;
    // One summary: a header, three rows, the count.
    EXPECT_NE(r.out.find("FILE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SPEED"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("3 files: 3 ok, 0 failed"), std::string::npos) << r.out;
    for (const char* name : {"a-first.bin", "m-mid.bin", "z-last.bin"})
      EXPECT_NE(r.out.find(name), std::string::npos) << r.out;

    // The same with --json: one document listing the three reports.
    TempDir dir2;  // -d DIR this time
    args[4] = "-d";
    args[5] = dir2.path();
    args.push_back("--json");
    r = dfd(args);
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = r.doc();
    ASSERT_TRUE(j.is_object()) << r.out;
    EXPECT_EQ(j["ok"], true);
    EXPECT_EQ(j["exit_code"], 0);
    ASSERT_EQ(j["files"].size(), 3u);
    EXPECT_EQ(j["files"][0]["file"], "a-first.bin");
    EXPECT_EQ(j["files"][1]["file"], m_prefix);
    EXPECT_EQ(j["files"][1]["name"], "m-mid.bin");
    EXPECT_EQ(j["files"][2]["file"], z_id);
    for (const auto& f : j["files"]) EXPECT_EQ(f["digest_verified"], true) << f.dump();
  }
}

// A failed file does not stop the others; the exit code is the first failure's.
TEST_F(Address, EveryFileIsAttempted) {
  auto r = dfd({"get", "a-first.bin", "no-such.bin", "dup.txt", "m-mid.bin", "-d", out_->path(),
                "--json", "--parallel", "2"});
  EXPECT_EQ(r.status, kExitNotFound) << r.out << r.err;
  auto j = r.doc();
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["exit_code"], kExitNotFound);
  EXPECT_NE(j["error"].get<std::string>().find("no-such.bin: no file named"), std::string::npos)
      << j.dump();
  ASSERT_EQ(j["files"].size(), 4u);
  EXPECT_EQ(j["files"][0]["ok"], true);
  EXPECT_EQ(j["files"][1]["exit_code"], kExitNotFound);
  EXPECT_EQ(j["files"][2]["exit_code"], kExitAmbiguous);
  EXPECT_EQ(j["files"][3]["ok"], true);
  EXPECT_EQ(read_file(out("a-first.bin")), content("a-first.bin"));
  EXPECT_EQ(read_file(out("m-mid.bin")), content("m-mid.bin"));
}

// An interrupt (here the test hook that stops like Ctrl-C after a few chunks) stops the whole
// command: the files after it are not started, the interrupted one keeps its verified state.
TEST_F(Address, InterruptStopsEveryFile) {
  auto r = dfd({"get", "z-last.bin", "a-first.bin", "-o", out_->path() + "/", "--json",
                "--stop-after-chunks", "2"});
  EXPECT_EQ(r.status, kExitInterrupted) << r.out << r.err;
  auto j = r.doc();
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["exit_code"], kExitInterrupted);
  ASSERT_EQ(j["files"].size(), 2u);
  EXPECT_EQ(j["files"][0]["exit_code"], kExitInterrupted);
  EXPECT_EQ(j["files"][1]["exit_code"], kExitInterrupted);
  EXPECT_EQ(j["files"][1]["error"], "interrupted before it started");
  EXPECT_EQ(::access(out("z-last.bin.dfd-state").c_str(), F_OK), 0) << "verified state kept";
  EXPECT_NE(::access(out("a-first.bin").c_str(), F_OK), 0);
  // The rerun resumes and finishes both.
  r = dfd({"get", "z-last.bin", "a-first.bin", "-o", out_->path() + "/", "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_GT(r.doc()["files"][0]["chunks_resumed"].get<int>(), 0) << r.out;
  EXPECT_EQ(read_file(out("z-last.bin")), content("z-last.bin"));
}

// --json: exactly one JSON document on stdout for every failure, with the exit code.
TEST_F(Address, EveryFailurePrintsOneJsonDocument) {
  struct Case {
    std::string what;
    int code;
    Split r;
  };
  std::vector<Case> cases;
  auto add = [&](const std::string& what, int code, Split r) {
    cases.push_back({what, code, std::move(r)});
  };
  TempDir nobody;
  add("not logged in", kExitAuth,
      dfd_in(*host_, {"get", "a-first.bin", "-o", out("x"), "--json"}, "", &nobody));
  add("not found", kExitNotFound, dfd({"get", "no-such.bin", "-o", out("x"), "--json"}));
  add("no such id", kExitNotFound, dfd({"get", "999999", "-o", out("x"), "--json"}));
  add("ambiguous", kExitAmbiguous, dfd({"get", kSharedPrefix, "-o", out("x"), "--json"}));
  add("bad argument", kExitUsage, dfd({"get", "uid:xyz", "-o", out("x"), "--json"}));
  add("a bad option value", kExitUsage,
      dfd({"get", "a-first.bin", "--parallel", "0", "-o", out("x"), "--json"}));
  add("-o FILE with several files", kExitUsage,
      dfd({"get", "a-first.bin", "m-mid.bin", "-o", out("x"), "--json"}));
  add("-o - with several files", kExitUsage,
      dfd({"get", "a-first.bin", "m-mid.bin", "-o", "-", "--json"}));
  write_file(out("exists"), "precious");
  add("output exists", kExitExists, dfd({"get", "a-first.bin", "-o", out("exists"), "--json"}));
  write_file(out("a-file"), "");
  add("local error", kExitLocalIo,
      dfd({"get", "a-first.bin", "-o", out("a-file") + "/sub/x.bin", "--json", "--no-progress"}));

  // The info server down: logged in to a list whose other server is gone, then asked alone.
  TempDir home;
  int dead_port = free_port();
  std::string dead = "http://127.0.0.1:" + std::to_string(dead_port);
  auto login = run({bin("dfd"), "--server", host_->base + "," + dead, "login", "--email",
                    "admin@example.com", "--password-stdin"},
                   "admin-password-1\n", env_of(home));
  ASSERT_EQ(login.status, 0) << login.output;
  {
    std::string err_file = home.file("err");
    auto env = env_of(home);
    env["DFD_TEST_ERR"] = err_file;
    auto r = run({"sh", "-c", "exec \"$0\" \"$@\" 2>\"$DFD_TEST_ERR\"", bin("dfd"), "--server",
                  dead, "get", "a-first.bin", "-o", out("x"), "--json"},
                 "", env);
    add("info server down", kExitServer, {r.status, r.output, read_file(err_file)});
  }

  // Throttled: a host allowing one manifest per user and minute.
  AioHost strict("strict\n", "manifests_per_minute = 1\nmanifest_burst = 1\n");
  ASSERT_TRUE(strict.ready) << strict.host->log();
  TempDir strict_home;
  ASSERT_EQ(dfd_in(strict, {"login", "--email", "admin@example.com", "--password-stdin"},
                   "admin-password-1\n", &strict_home)
                .status,
            0);
  auto end = std::chrono::steady_clock::now() + 20s;
  for (;;) {  // until hello.txt is live (a manifest before that would spend the one allowed)
    auto ls = dfd_in(strict, {"ls", "--json"}, "", &strict_home).doc();
    if (ls.is_object() && ls["total"] == 1 && ls["files"][0]["available"] == true) break;
    ASSERT_LT(std::chrono::steady_clock::now(), end) << strict.host->log();
    std::this_thread::sleep_for(200ms);
  }
  auto first =
      dfd_in(strict, {"get", "hello.txt", "-o", out("strict-1"), "--json"}, "", &strict_home);
  ASSERT_EQ(first.status, 0) << first.out << first.err;
  add("throttled", kExitThrottled,
      dfd_in(strict, {"get", "hello.txt", "-o", out("strict-2"), "--json"}, "", &strict_home));

  for (const auto& c : cases) {
    EXPECT_EQ(c.r.status, c.code) << c.what << ": " << c.r.out << c.r.err;
    auto j = c.r.doc();
    ASSERT_TRUE(j.is_object()) << c.what << ": stdout is not one JSON document: " << c.r.out;
    EXPECT_EQ(j["ok"], false) << c.what;
    EXPECT_EQ(j["exit_code"], c.r.status) << c.what << ": " << j.dump();
    EXPECT_FALSE(j["error"].get<std::string>().empty()) << c.what;
    EXPECT_FALSE(c.r.err.empty()) << c.what << ": the error also goes to stderr";
  }
  EXPECT_EQ(read_file(out("exists")), "precious");
}

// Ctrl-C during `dfd get A B --parallel 2` stops both downloads (each keeps its verified chunks)
// and prints one JSON document. Three slow test file servers (tests/client/test_file_server,
// 512 KiB/s per connection) so that both downloads are running when SIGINT comes.
TEST(AddressInterrupt, CtrlCStopsEveryParallelDownloadAndKeepsState) {
  cli::Cluster c(8 * cli::kMiB);
  TestFile second = c.file;
  second.id = 8;
  second.name = "second.bin";
  second.data = random_bytes(8 * cli::kMiB, 43);
  second.uid = digest_hex("sha256", second.data->data(), second.data->size());
  for (auto& s : c.fs) {
    s->serve_content(second.uid, second.data);
    s->faults.rate = 512 * 1024;
  }
  c.info.serve_info("ann@example.org", "s3cret", {c.file, second}, c.locs, c.tokens);
  c.login();
  TempDir out;
  std::string err = out.file("stderr.txt");
  auto env = c.env;
  env["DFD_TEST_ERR"] = err;
  Process p({"sh", "-c", "exec \"$0\" \"$@\" 2>\"$DFD_TEST_ERR\"", bin("dfd"), "get", "movie.bin",
             "second.bin", "--parallel", "2", "-o", out.path() + "/", "--json"},
            env, out.file("stdout.txt"));
  // Both downloads have verified bytes on disk (a state file each) before the interrupt.
  auto end = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < end &&
         (::access(out.file("movie.bin.dfd-state").c_str(), F_OK) != 0 ||
          ::access(out.file("second.bin.dfd-state").c_str(), F_OK) != 0))
    std::this_thread::sleep_for(20ms);
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(20s), kExitInterrupted) << p.log() << read_file(err);
  auto j = json::parse(read_file(out.file("stdout.txt")), nullptr, false);
  ASSERT_TRUE(j.is_object()) << p.log();
  EXPECT_EQ(j["exit_code"], kExitInterrupted);
  ASSERT_EQ(j["files"].size(), 2u);
  for (const auto& f : j["files"]) {
    EXPECT_EQ(f["exit_code"], kExitInterrupted) << f.dump();
    EXPECT_LT(f["chunks_fetched"].get<int>(), 8) << f.dump();
  }
  for (const char* name : {"movie.bin", "second.bin"}) {
    EXPECT_EQ(::access(out.file(std::string(name) + ".dfd-state").c_str(), F_OK), 0) << name;
    EXPECT_NE(::access(out.file(name).c_str(), F_OK), 0) << name;
  }
  // The rerun (servers at full speed) resumes both.
  for (auto& s : c.fs) s->faults.rate = 0;
  auto r = c.dfd(
      {"get", "movie.bin", "second.bin", "--parallel", "2", "-o", out.path() + "/", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(out.file("movie.bin")), *c.file.data);
  EXPECT_EQ(read_file(out.file("second.bin")), *second.data);
}

// Issue 13: a file's catalog id is the same after the deployment restarts (info server on its
// database; the file server announcing its files in another order than they first arrived).
// Last in the suite: it restarts the host.
TEST_F(Address, ZzCatalogIdsSurviveARestart) {
  auto before = listing();
  ASSERT_TRUE(before.is_object());
  std::map<std::string, int> ids;  // uid -> id
  for (const auto& f : before["files"]) ids[f["uid"]] = f["id"];
  ASSERT_GE(ids.size(), 8u) << before.dump();
  // They arrived z, m, a: the ids say so (a restart announces them sorted: a, m, z).
  int z = ids[sha256(content("z-last.bin"))], m = ids[sha256(content("m-mid.bin"))],
      a = ids[sha256(content("a-first.bin"))];
  EXPECT_LT(z, m);
  EXPECT_LT(m, a);

  host_->host->signal(SIGTERM);
  ASSERT_GE(host_->host->wait(20s), 0);
  // The content index (a cache) is removed: every file is indexed and announced anew, in the
  // storage's sorted order. The catalog database stays.
  run({"sh", "-c", "rm -f \"$0\"/state/index.db*", host_->dir.path()});
  host_->host = std::make_unique<Process>(
      std::vector<std::string>{bin("dfd-host"), "--config", host_->config},
      std::map<std::string, std::string>{}, host_->dir.file("host-2.log"));
  ASSERT_TRUE(wait_http(host_->base + "/healthz", 200, 30s)) << host_->host->log();
  // A new file after the restart gets a new id, above every earlier one.
  ASSERT_TRUE(add_file("new-after-restart.bin", "new after the restart\n"));
  json after;
  auto end = std::chrono::steady_clock::now() + 20s;
  for (;;) {  // until every live file is announced again
    after = listing();
    std::size_t live = 0;
    for (const auto& f : after["files"]) live += f["available"] == true ? 1 : 0;
    if (live >= ids.size()) break;  // all but the first dup.txt, plus the new file
    ASSERT_LT(std::chrono::steady_clock::now(), end) << after.dump();
    std::this_thread::sleep_for(200ms);
  }
  for (const auto& [uid, id] : ids) {
    auto e = entry_of_uid(after, uid);
    ASSERT_TRUE(e.is_object()) << uid << " gone after the restart: " << after.dump();
    EXPECT_EQ(e["id"], id) << e.dump();
  }
  int max_before = 0;
  for (const auto& [uid, id] : ids) max_before = std::max(max_before, id);
  EXPECT_GT(entry_of_uid(after, sha256("new after the restart\n"))["id"].get<int>(), max_before);
  // And dfd get by id still fetches the same bytes.
  auto r = dfd({"get", std::to_string(a), "-o", out("a.bin"), "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(out("a.bin")), content("a-first.bin"));
}

}  // namespace
}  // namespace dfd::test
