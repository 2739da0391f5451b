// Issue 5's acceptance criteria (and criterion 3 of issue 3: aria2c from three file servers), end
// to end against the real system: a real RabbitMQ (scripts/rabbitmq), one real info server and
// three real file servers (dfd-host processes, zones a/b/c, the same sample in each storage root:
// 64 MiB, chunk_size 1 MiB, unless set as below) and the real `dfd` binary, logged in once with
// `--password-stdin`. Faults are real too: SIGKILL / SIGSTOP of processes and bytes flipped in a
// storage root.
//
// Sizes are scaled down so the suite stays fast. Issue 5 asks for 1 GiB (and 4 GiB for peak
// memory): DFD_E2E_BIG_MIB and DFD_E2E_CHUNK_MIB (defaults 64 and 1) run the same tests at those
// sizes, and bench/client-acceptance does exactly that (docs/client.md lists its figures). Every
// fault window below scales with the size.
//
// Some faults must land while a download runs, and a 64 MiB download takes only a few hundred ms.
// Where a fault needs a window (a client SIGKILL after a state write, a file server SIGKILL or
// SIGSTOP mid-transfer), the test watches the client's real progress (/proc/PID/io write bytes or
// the .dfd-state file); for the client SIGKILL it also slows the client down (SIGSTOP for 100 ms
// after every few MiB it writes: a slow machine, in effect) so that state writes (every 0.5 s)
// happen before the download ends. The kill itself is a real SIGKILL, of a running client.
//
// Criterion 4 (SIGSTOPped server, "< 2x the normal time") is asserted as < 2x + 0.3 s: at 64 MiB
// a download takes ~0.2 s, and the client's fixed 300 ms silence threshold (docs/client.md)
// would otherwise dominate; a client that waited for its 5 s stall timeout still fails it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "client_cluster.hpp"
#include "harness.hpp"
#include "real_cluster.hpp"

using json = nlohmann::json;
using namespace dfd::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const char* kAdminEmail = "admin@client-e2e.test";
const char* kAdminPassword = "client e2e battery staple";
constexpr std::size_t kMiB = 1 << 20;

// A positive whole number of MiB from the environment, or `fallback`.
std::size_t env_mib(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (*end != '\0' || n == 0) {
    std::fprintf(stderr, "%s=%s is not a positive number of MiB\n", name, v);
    std::exit(2);
  }
  return static_cast<std::size_t>(n);
}

const std::size_t kBigSize = env_mib("DFD_E2E_BIG_MIB", 64) * kMiB;
const std::size_t kChunk = env_mib("DFD_E2E_CHUNK_MIB", 1) * kMiB;

using FileServer = ClusterFileServer;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Bytes the process has written so far (write/pwrite), from /proc/PID/io; -1 if unreadable.
long long written_by(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  std::string key;
  long long v = 0;
  while (in >> key >> v)
    if (key == "wchar:") return v;
  return -1;
}

// Verified chunks recorded in a .dfd-state file (0 if missing or unreadable).
int verified_in_state(const std::string& state_path) {
  std::ifstream in(state_path);
  if (!in) return 0;
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.contains("verified")) return 0;
  auto hex = j.at("verified").get<std::string>();
  int n = 0;
  for (char c : hex) {
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : 0;
    n += __builtin_popcount(static_cast<unsigned>(v));
  }
  return n;
}

// Slows a process down like a slow machine would: each time it has written another
// `step(written so far)` bytes (/proc/PID/io), it is stopped for `pause` and continued. Always
// leaves it continued. The process must not be reaped while this runs (PID reuse).
class Throttle {
 public:
  Throttle(pid_t pid, std::function<long long(long long)> step, std::chrono::milliseconds pause)
      : thread_([this, pid, step, pause] {
          long long gate = step(0);
          while (!stop_.load()) {
            long long w = written_by(pid);
            if (w < 0) break;
            if (w >= gate) {
              ::kill(pid, SIGSTOP);
              std::this_thread::sleep_for(pause);
              ::kill(pid, SIGCONT);
              w = written_by(pid);
              gate = w + step(w);
            } else {
              std::this_thread::sleep_for(std::chrono::microseconds(300));
            }
          }
        }) {}
  ~Throttle() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class Cluster : public ClientCluster {
 public:
  Cluster() : ClientCluster(kAdminEmail, kAdminPassword, kBigSize, kChunk) {}
};

Cluster* g = nullptr;

class ClientE2E : public ClientClusterTest {
 protected:
  static void SetUpTestSuite() {
    auto t0 = Clock::now();
    g = new Cluster();
    g->bring_up({{"fs-a", "zone-a"}, {"fs-b", "zone-b"}, {"fs-c", "zone-c"}});
    if (::testing::Test::HasFatalFailure()) return;
    std::printf("[cluster] up in %.1f s\n", seconds_since(t0));
  }
  static void TearDownTestSuite() { tear_down_cluster(g); }
  const ClientCluster* cluster() const override { return g; }

  // A plain verified download of the big sample; returns its report and wall time.
  json get_big(const std::string& path, double* secs = nullptr) {
    auto t0 = Clock::now();
    auto r = g->dfd({"get", big_id(), "-o", path, "--no-progress", "--json"});
    if (secs) *secs = seconds_since(t0);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(sha256_file(path), g->big_sha);
    return report_of(r.output);
  }
};

// Issue 5, criterion 1: exact bytes, and the report shows all three servers contributing.
TEST_F(ClientE2E, GetFromThreeServersExactBytesAllContribute) {
  double secs = 0;
  auto rep = get_big(out("big.bin"), &secs);
  std::printf("download of %zu MiB: %.3f s\n", kBigSize / kMiB, secs);
  ASSERT_TRUE(rep.is_object()) << "no JSON report";
  EXPECT_EQ(rep.value("ok", false), true) << rep.dump();
  EXPECT_EQ(rep.value("exit_code", -1), 0);
  EXPECT_EQ(rep.value("size", 0ull), kBigSize);
  EXPECT_EQ(rep.value("uid", ""), g->big_sha);
  EXPECT_EQ(rep.value("digest_verified", false), true);
  ASSERT_EQ(rep.at("servers").size(), 3u) << rep.dump();
  std::uint64_t sum = 0;
  for (auto& f : g->fs) {
    auto* s = server_in(rep, f.id);
    ASSERT_NE(s, nullptr) << f.id << " missing: " << rep.dump();
    EXPECT_GT(s->value("bytes", 0ull), 0u) << f.id << " did not contribute: " << rep.dump();
    EXPECT_EQ(s->value("strikes", -1), 0) << rep.dump();
    sum += s->value("bytes", 0ull);
  }
  EXPECT_GE(sum, kBigSize);
  // Not left behind: no .dfd-part, no .dfd-state.
  EXPECT_NE(::access((out("big.bin") + ".dfd-part").c_str(), F_OK), 0);
  EXPECT_NE(::access((out("big.bin") + ".dfd-state").c_str(), F_OK), 0);
  // A small file too.
  auto r = g->dfd({"get", std::to_string(g->small_id), "-o", out("small.txt"), "--no-progress"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(out("small.txt")), read_file(g->small_path));
}

// Issue 5 ("not overwritten without --force"): exit 6, the file untouched; --force replaces it.
TEST_F(ClientE2E, ExistingOutputRefusedWithoutForce) {
  const std::string path = out("exists.bin");
  write_file(path, "precious");
  auto r = g->dfd({"get", big_id(), "-o", path, "--no-progress"});
  EXPECT_EQ(r.status, 6) << r.output;
  EXPECT_EQ(read_file(path), "precious");
  EXPECT_NE(::access((path + ".dfd-part").c_str(), F_OK), 0);
  r = g->dfd({"get", big_id(), "-o", path, "--no-progress", "--force"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(sha256_file(path), g->big_sha);
}

// Issue 13: files named on the command line by name and uid prefix, three in one command at once
// (--parallel 3, one shared connection budget), into one folder, one JSON document.
TEST_F(ClientE2E, ThreeFilesByNameAndUidPrefixInOneCommand) {
  const std::string third = "a third file, on fs-b only\n";
  auto& fsb = g->server("fs-b");
  write_file(fsb.root() + "/third.txt", third);
  std::string small_uid;
  bool third_live = false;
  auto end = Clock::now() + 20s;
  while (!third_live && Clock::now() < end) {
    fsb.proc->signal(SIGHUP);  // rescan: third.txt is announced
    std::this_thread::sleep_for(100ms);
    auto ls = g->dfd({"ls", "--json", "small.txt", "third.txt"});
    auto j = json::parse(ls.output, nullptr, false);
    if (ls.status != 0 || j.is_discarded()) continue;
    for (const auto& f : j["files"]) {
      if (f["name"] == "small.txt") small_uid = f["uid"];
      if (f["name"] == "third.txt") third_live = f["available"] == true;
    }
  }
  ASSERT_TRUE(third_live) << "third.txt never listed as live";
  ASSERT_FALSE(small_uid.empty());
  auto r = g->dfd({"get", "big.bin", small_uid.substr(0, 8), "third.txt", "--parallel", "3",
                   "--connections", "6", "-d", out_dir_->path(), "--json", "--no-progress"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto rep = report_of(r.output);
  ASSERT_TRUE(rep.is_object()) << r.output;
  EXPECT_EQ(rep["ok"], true);
  ASSERT_EQ(rep["files"].size(), 3u) << rep.dump();
  EXPECT_EQ(rep["files"][1]["name"], "small.txt");
  EXPECT_EQ(rep["files"][0]["servers"].size(), 3u);  // big.bin from the three servers
  EXPECT_EQ(sha256_file(out("big.bin")), g->big_sha);
  EXPECT_EQ(read_file(out("small.txt")), read_file(g->small_path));
  EXPECT_EQ(read_file(out("third.txt")), third);
}

// Issue 3, criterion 3: aria2c with a download token, from the three file servers at once.
TEST_F(ClientE2E, Aria2cFromThreeServersByteIdentical) {
  if (run({"sh", "-c", "command -v aria2c"}).status != 0) GTEST_SKIP() << "aria2c not installed";
  auto m = g->api("GET", "/v1/files/" + big_id());
  ASSERT_EQ(m.status, 200) << m.body;
  auto j = json::parse(m.body);
  auto token = j.at("download_token").get<std::string>();
  auto uid = j.at("uid").get<std::string>();
  ASSERT_EQ(uid, g->big_sha);
  ASSERT_EQ(j.at("locations").size(), 3u) << m.body;
  std::vector<std::string> argv = {"aria2c",
                                   "--no-conf=true",
                                   "--header",
                                   "Authorization: Bearer " + token,
                                   "-x3",
                                   "-s3",
                                   "-k1M",
                                   "--file-allocation=none",
                                   "--allow-overwrite=true",
                                   "--auto-file-renaming=false",
                                   "--console-log-level=warn",
                                   "--summary-interval=0",
                                   "--download-result=hide",
                                   "-d",
                                   out_dir_->path(),
                                   "-o",
                                   "aria.bin"};
  if (g->tls.on) argv.push_back("--ca-certificate=" + g->tls.ca_file());
  for (auto& l : j.at("locations"))
    argv.push_back(l.at("url").get<std::string>() + "/v1/content/" + uid);
  auto t0 = Clock::now();
  auto r = run(argv);
  std::printf("aria2c -x3 -s3 -k1M of 64 MiB: %.3f s\n", seconds_since(t0));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(sha256_file(out("aria.bin")), g->big_sha);
  // The token is what lets it in: without it, a file server answers 401.
  auto denied =
      http("GET", j.at("locations")[0].at("url").get<std::string>() + "/v1/content/" + uid);
  EXPECT_EQ(denied.status, 401);
}

// Issue 5, criterion 6, scaled down: peak RSS of a 64 MiB download under /usr/bin/time -v. (The
// 4 GiB measurement is bench/download-vs-aria2c's; docs/client.md lists it.)
TEST_F(ClientE2E, PeakMemoryUnder64MiB) {
  if (::access("/usr/bin/time", X_OK) != 0) GTEST_SKIP() << "/usr/bin/time not installed";
#ifdef DFD_SANITIZED
  GTEST_SKIP() << "sanitizer builds inflate RSS (shadow memory): memory is measured unsanitized";
#endif
  auto r = run(
      {"/usr/bin/time", "-v", bin("dfd"), "get", big_id(), "-o", out("mem.bin"), "--no-progress"},
      "", g->dfd_env());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(sha256_file(out("mem.bin")), g->big_sha);
  auto pos = r.output.find("Maximum resident set size (kbytes):");
  ASSERT_NE(pos, std::string::npos) << r.output;
  long kib = std::stol(r.output.substr(pos + 36));
  std::printf("dfd get of %zu MiB: max RSS %.1f MiB\n", kBigSize / kMiB, kib / 1024.0);
  EXPECT_GT(kib, 0);
  EXPECT_LT(kib, 64 * 1024) << "max RSS " << kib << " KiB";
}

// Issue 5, criterion 3: a file server lying (bytes flipped after it indexed the file, so it still
// announces the right uid and chunk digests): right bytes anyway, the liar named in the report.
TEST_F(ClientE2E, CorruptedCopyOnOneServerIsDetectedAndNamed) {
  auto& liar = g->server("fs-c");
  const std::string victim = liar.root() + "/" + ClientCluster::kBigName;
  struct stat st {};
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  const std::size_t chunks = kBigSize / kChunk;
  // One byte flipped in every chunk, so whichever chunk fs-c is asked for is wrong.
  auto flip_all = [&] {
    int fd = ::open(victim.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    for (std::size_t i = 0; i < chunks; ++i) {
      off_t at = static_cast<off_t>(i * kChunk + 4099 + i * 7);
      unsigned char b = 0;
      ASSERT_EQ(::pread(fd, &b, 1, at), 1);
      b ^= 0x5a;
      ASSERT_EQ(::pwrite(fd, &b, 1, at), 1);
    }
    ::close(fd);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, victim.c_str(), times, 0), 0);
  };
  flip_all();
  if (HasFatalFailure()) return;
  ASSERT_NE(sha256_file(victim), g->big_sha);

  auto rep = get_big(out("liar.bin"));
  flip_all();  // flips the same bytes back, restores the mtime again
  EXPECT_EQ(sha256_file(victim), g->big_sha) << "could not restore fs-c's copy";

  ASSERT_TRUE(rep.is_object());
  EXPECT_EQ(rep.value("ok", false), true) << rep.dump();
  auto* s = server_in(rep, liar.id);
  ASSERT_NE(s, nullptr) << rep.dump();
  std::printf("fs-c: strikes %d, dropped %d (%s)\n", s->value("strikes", 0),
              s->value("dropped", false), s->value("drop_reason", "").c_str());
  EXPECT_TRUE(s->value("strikes", 0) > 0 || s->value("dropped", false)) << rep.dump();
  for (auto& f : g->fs) {
    if (f.id == liar.id) continue;
    auto* o = server_in(rep, f.id);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->value("strikes", -1), 0) << f.id << ": " << rep.dump();
    EXPECT_FALSE(o->value("dropped", true)) << f.id << ": " << rep.dump();
  }
}

// Starts `dfd get` of the big sample as a process; waits until it has written `bytes` to its
// .dfd-part (or until it exits). Returns false when it was no longer running by then.
bool wait_progress(Process& p, long long bytes, std::chrono::milliseconds timeout = 20s) {
  auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    long long w = written_by(p.pid());
    if (w >= bytes) return true;
    if (w < 0 && !p.running()) return false;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

// Issue 5, criterion 4: a file server SIGSTOPped mid-download; the download completes, verified,
// in less than twice the normal time measured here.
TEST_F(ClientE2E, StoppedServerDoesNotStallDownload) {
  // Normal and stopped runs alternate, and the better of two of each counts, so that a run
  // slowed by the machine (on this VM, page-cache writes into memory the hypervisor took back
  // run at a third of the speed for a whole download, docs/client.md) decides neither side.
  auto& victim = g->server("fs-b");
  double normal = 1e9, stopped = 1e9;
  for (int i = 0; i < 2; ++i) {
    double n = 0;
    const std::string normal_path = out("normal" + std::to_string(i) + ".bin");
    get_big(normal_path, &n);
    normal = std::min(normal, n);
    ::unlink(normal_path.c_str());
    const std::string path = out("stopped" + std::to_string(i) + ".bin");
    auto t0 = Clock::now();
    auto p = g->dfd_async({"get", big_id(), "-o", path, "--no-progress", "--json"},
                          out("stopped" + std::to_string(i) + ".log"));
    bool mid = wait_progress(*p, static_cast<long long>(kBigSize * 3 / 32));
    victim.proc->signal(SIGSTOP);
    int rc = p->wait(60s);
    double secs = seconds_since(t0);
    victim.proc->signal(SIGCONT);
    stopped = std::min(stopped, secs);
    ASSERT_TRUE(mid) << "the download ended before fs-b could be stopped: " << p->log();
    EXPECT_EQ(rc, 0) << p->log();
    EXPECT_EQ(sha256_file(path), g->big_sha);
    auto rep = report_of(p->log());
    ASSERT_TRUE(rep.is_object()) << p->log();
    EXPECT_EQ(rep.value("ok", false), true) << rep.dump();
    auto* s = server_in(rep, victim.id);
    ASSERT_NE(s, nullptr) << rep.dump();
    std::printf(
        "fs-b SIGSTOPped: %.3f s; its bytes %llu, chunks %d, requests %d, retries %d; "
        "duplicates %d\n",
        secs, s->value("bytes", 0ull), s->value("chunks", 0), s->value("requests", 0),
        s->value("retries", 0), rep.value("duplicates", 0));
    // The stop caught fs-b with requests in flight (they never completed).
    EXPECT_GT(s->value("requests", 0), s->value("chunks", 0)) << rep.dump();
    ::unlink(path.c_str());
    g->wait_locations(3);
  }
  std::printf("normal %.3f s, with fs-b SIGSTOPped mid-download %.3f s (%.2fx)\n", normal, stopped,
              stopped / normal);
  // Issue 5 says < 2x for 1 GiB. At 64 MiB a download takes ~0.2 s and the client's 300 ms
  // silence threshold (docs/client.md) is a large share of it, so allow 2x plus that threshold.
  EXPECT_LT(stopped, 2 * normal + 0.3);
}

// Issue 5, criterion 2: kill -9 of one file server mid-download; completes, exact bytes. The
// server is started again (same config) afterwards.
TEST_F(ClientE2E, KilledServerMidDownloadStillCompletes) {
  auto& victim = g->server("fs-a");
  auto p = g->dfd_async({"get", big_id(), "-o", out("killed.bin"), "--no-progress", "--json"},
                        out("killed.log"));
  bool mid = wait_progress(*p, static_cast<long long>(kBigSize * 3 / 32));
  victim.proc->signal(SIGKILL);
  bool still_running = p->running();
  victim.proc->wait(5s);
  int rc = p->wait(60s);
  ASSERT_TRUE(mid && still_running) << "the download ended before fs-a was killed: " << p->log();
  EXPECT_EQ(rc, 0) << p->log();
  EXPECT_EQ(sha256_file(out("killed.bin")), g->big_sha);
  auto rep = report_of(p->log());
  ASSERT_TRUE(rep.is_object()) << p->log();
  EXPECT_EQ(rep.value("ok", false), true) << rep.dump();
  auto* s = server_in(rep, victim.id);
  ASSERT_NE(s, nullptr);
  std::printf("fs-a killed: its bytes %llu, retries %d, dropped %d, last error '%s'\n",
              s->value("bytes", 0ull), s->value("retries", 0), s->value("dropped", false),
              s->value("last_error", "").c_str());
  EXPECT_LT(s->value("bytes", 0ull), kBigSize);

  g->start_fs(victim);
  g->wait_locations(3);
}

// Issue 5, criterion 5: kill -9 of the client at about half way, then the same command again:
// completes, verified, and the second run fetches well under 60 % of the file.
TEST_F(ClientE2E, KilledClientResumesFetchingOnlyTheRest) {
  const std::string path = out("resume.bin");
  const std::vector<std::string> cmd = {"get", big_id(), "-o", path, "--no-progress", "--json"};
  const int chunks = static_cast<int>(kBigSize / kChunk);
  int at_kill = 0;
  std::string history;  // state file counts seen (and MiB written by then)
  {
    // nice 19 so that, on a busy machine, the throttle below still gets the CPU in time.
    auto argv = cmd;
    argv.insert(argv.begin(), {"nice", "-n", "19", bin("dfd")});
    auto p = std::make_unique<Process>(argv, g->dfd_env(), out("resume1.log"));
    {
      // The state file is written about every 0.5 s and lags the bytes written by the chunks in
      // flight (up to 12 chunks). Stop the client for 100 ms after every 1/16 of the file it
      // writes, and after every 1/64 past 3/8 of it (4 MiB, 1 MiB and 24 MiB at 64 MiB), so the
      // state file advances by small steps near half way.
      const auto size = static_cast<long long>(kBigSize);
      Throttle slow(
          p->pid(), [size](long long w) { return w < size * 3 / 8 ? size / 16 : size / 64; },
          100ms);
      auto end = Clock::now() + 30s + std::chrono::seconds(kBigSize >> 28);
      while (Clock::now() < end && ::access(path.c_str(), F_OK) != 0) {
        int v = verified_in_state(path + ".dfd-state");
        if (v != at_kill)
          history +=
              " " + std::to_string(v) + "@" + std::to_string(written_by(p->pid()) >> 20) + "MiB";
        at_kill = v;
        if (at_kill >= chunks / 2) break;
        std::this_thread::sleep_for(2ms);
      }
      p->signal(SIGKILL);
    }
    int rc = p->wait(10s);
    std::printf("client SIGKILLed with %d of %d chunks in its state file (seen:%s)\n", at_kill,
                chunks, history.c_str());
    ASSERT_EQ(rc, 128 + SIGKILL) << "the first run was not killed: " << p->log();
    ASSERT_NE(::access(path.c_str(), F_OK), 0) << "finished before the kill";
    ASSERT_GE(at_kill, chunks / 4);
    ASSERT_LT(at_kill, chunks);
  }
  auto r = g->dfd(cmd);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(sha256_file(path), g->big_sha);
  auto rep = report_of(r.output);
  ASSERT_TRUE(rep.is_object()) << r.output;
  auto fetched = rep.value("bytes_fetched", 0ull);
  std::printf("second run: resumed %d chunks, fetched %llu bytes (%.1f %%)\n",
              rep.value("chunks_resumed", 0), fetched, 100.0 * fetched / kBigSize);
  EXPECT_FALSE(rep.value("restarted", true)) << rep.dump();
  EXPECT_GE(rep.value("chunks_resumed", 0), at_kill) << rep.dump();
  EXPECT_LT(fetched, kBigSize * 6 / 10) << rep.dump();
  EXPECT_GT(fetched, 0u);
  EXPECT_NE(::access((path + ".dfd-state").c_str(), F_OK), 0);
}

}  // namespace
