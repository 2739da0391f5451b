// The download engine's own rules (issue 13): the HTTP status -> fault rule, the live per-server
// Progress (states, the final call), lazy preallocation and the removal of a part holding nothing
// verified. Pure logic directly; the engine against real file servers (test_file_server.*) on
// 127.0.0.1 through the Downloader API.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "download_progress.hpp"
#include "downloader.hpp"
#include "harness.hpp"
#include "http_fault.hpp"
#include "part_store.hpp"
#include "small_disk.hpp"
#include "test_file_server.hpp"
#include "util.hpp"

using namespace dfd::client;
using dfd::test::TestServer;

namespace {
constexpr std::size_t kMiB = 1 << 20;

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

std::uint64_t allocated(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_blocks) * 512 : 0;
}

// A manifest of `mib` chunks of 1 MiB (digests not checked by PartStore).
Manifest manifest_of_mib(std::size_t mib) {
  Manifest m;
  m.uid = "u";
  m.alg = "sha256";
  m.size = mib * kMiB;
  m.chunk_size = kMiB;
  m.chunks.assign(mib, std::string(64, '0'));
  return m;
}

// One file served by three real file servers (fs-a, fs-b, fs-c) and its manifest.
struct Servers {
  dfd::test::TempDir dir;
  dfd::test::TestFile file;
  std::vector<std::unique_ptr<TestServer>> fs;
  Manifest manifest;

  explicit Servers(std::size_t size, std::size_t chunk = kMiB) {
    file.data = dfd::test::random_bytes(size, 7);
    file.chunk_size = chunk;
    file.name = "f.bin";
    file.uid = dfd::test::digest_hex("sha256", file.data->data(), file.data->size());
    auto j = dfd::test::manifest_for(file);
    nlohmann::json locs = nlohmann::json::array();
    for (const char* id : {"fs-a", "fs-b", "fs-c"}) {
      fs.push_back(std::make_unique<TestServer>(id));
      fs.back()->serve_content(file.uid, file.data);
      fs.back()->set_tokens({"dl-1"});
      locs.push_back({{"server_id", id}, {"zone", "z"}, {"url", fs.back()->url()}});
    }
    j["locations"] = locs;
    j["download_token"] = "dl-1";
    manifest = parse_manifest(j);
  }

  std::string out() const { return dir.file("out.bin"); }

  DownloadOptions options(std::vector<Progress>& seen) const {
    DownloadOptions o;
    o.output = out();
    o.backoff_base = std::chrono::milliseconds(20);
    o.on_progress = [&seen](const Progress& p) { seen.push_back(p); };
    return o;
  }
};

const ServerProgress* server(const Progress& p, const std::string& id) {
  for (const auto& s : p.servers)
    if (s.id == id) return &s;
  return nullptr;
}
}  // namespace

TEST(HttpFault, OneRuleForEveryStatus) {
  EXPECT_EQ(fault_of_status(206), Fault::kNone);
  for (long s : {401L, 403L}) EXPECT_EQ(fault_of_status(s), Fault::kAuth) << s;
  for (long s : {0L, 429L, 500L, 502L, 503L, 599L})
    EXPECT_EQ(fault_of_status(s), Fault::kTransport) << s;
  for (long s : {200L, 204L, 302L, 400L, 404L, 416L})
    EXPECT_EQ(fault_of_status(s), Fault::kStrike) << s;
  EXPECT_EQ(status_fault_message(404), "HTTP 404 instead of 206");
  EXPECT_EQ(status_fault_message(206), "");
}

TEST(ServerState, FromActivity) {
  ServerActivity a;
  EXPECT_STREQ(server_state(a), "idle");
  a.in_flight = 2;
  EXPECT_STREQ(server_state(a), "waiting");
  a.bytes_last_second = true;
  EXPECT_STREQ(server_state(a), "transferring");
  a.in_flight = 0;  // bytes a moment ago, nothing asked now: not transferring
  EXPECT_STREQ(server_state(a), "idle");
  a.backing_off = true;
  EXPECT_STREQ(server_state(a), "backing-off");
  a.dropped = true;
  EXPECT_STREQ(server_state(a), "dropped");
}

TEST(RateWindowTest, RateOverTheWindow) {
  RateWindow w(std::chrono::seconds(3));
  auto t0 = RateWindow::Clock::now();
  EXPECT_EQ(w.sample(t0, 0), 0);
  EXPECT_DOUBLE_EQ(w.sample(t0 + std::chrono::seconds(1), 1000), 1000);
  EXPECT_DOUBLE_EQ(w.sample(t0 + std::chrono::seconds(2), 3000), 1500);
  // Older samples leave the window: the rate follows the last seconds.
  w.sample(t0 + std::chrono::seconds(5), 3000);
  EXPECT_DOUBLE_EQ(w.sample(t0 + std::chrono::seconds(6), 3000), 0);
}

// A fresh part is sparse; with preallocation it is allocated whole at the first verified chunk,
// without it never; discard() removes the part and the state file.
TEST(PartStoreTest, PreallocatesOnlyOnceAChunkIsVerified) {
  for (bool preallocate : {true, false}) {
    dfd::test::TempDir dir;
    Manifest m = manifest_of_mib(4);
    PartStore part(m, dir.file("out.bin"), false, preallocate);
    std::string error;
    ASSERT_EQ(part.open(error), 0) << error;
    ASSERT_EQ(part.save({false, false, false, false}, true), "");
    struct stat st {};
    ASSERT_EQ(::stat(part.part_path().c_str(), &st), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), m.size);
    EXPECT_EQ(allocated(part.part_path()), 0u) << "preallocated before any chunk was verified";
    std::string block(kMiB, 'x');
    ASSERT_EQ(part.write_at(block.data(), block.size(), 0), 0);
    ASSERT_EQ(part.chunk_verified(), "");
    if (preallocate)
      EXPECT_GE(allocated(part.part_path()), m.size);
    else
      EXPECT_LT(allocated(part.part_path()), 2 * kMiB);
    part.discard();
    EXPECT_FALSE(exists(part.part_path()));
    EXPECT_FALSE(exists(part.state_path()));
  }
}

// The allocation at the first verified chunk finds the disk too small: the error names the part,
// the bytes still needed and the bytes free (the engine ends kLocalIo and keeps the chunk).
TEST(PartStoreTest, AllocationOnAFullDiskSaysWhatIsNeededWhere) {
  dfd::test::TempDir dir;
  dfd::test::SmallDisk disk(dir.file("small"), "8m");
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  Manifest m = manifest_of_mib(6);
  PartStore part(m, dir.file("small/out.bin"), false, true);
  std::string error;
  ASSERT_EQ(part.open(error), 0) << error;  // 6 MiB fit in 8 MiB: accepted up front
  std::string chunk(kMiB, 'x');
  ASSERT_EQ(part.write_at(chunk.data(), chunk.size(), 0), 0);
  // Something else takes the disk while the chunk is being verified: 1 MiB stays free.
  dfd::test::write_file(dir.file("small/other"), std::string(disk.free_bytes() - kMiB, 'o'));
  error = part.chunk_verified();
  EXPECT_EQ(error, "not enough free space for " + part.part_path() +
                       ": the download needs 5.0 MiB (5242880 bytes) more, " + dir.file("small") +
                       " has 1.0 MiB (1048576 bytes) free; make room (or use -o on another disk) "
                       "and run again");
  // A write that finds the disk full says the same, with the cause.
  std::string more(2 * kMiB, 'y');
  int e = part.write_at(more.data(), more.size(), 2 * kMiB);
  ASSERT_EQ(e, ENOSPC);
  error = part.write_error(e);
  EXPECT_EQ(error.rfind("cannot write " + part.part_path() +
                            " (No space left on device): the download needs ",
                        0),
            0u)
      << error;
  EXPECT_NE(error.find(" bytes) more, " + dir.file("small") + " has 0 B (0 bytes) free"),
            std::string::npos)
      << error;
}

// The live view while a server dies mid-download: it is shown backing off or dropped with a
// reason (never ok), the others transfer, and the final call says nobody transfers any more.
TEST(EngineProgress, ServerKilledMidDownloadShowsItsStateAndTheFinalCallIsLast) {
  Servers s(24 * kMiB);
  for (auto& f : s.fs) f->faults.rate = 1 << 20;  // bytes/s per connection: ~2 s in all
  std::vector<Progress> seen;
  auto o = s.options(seen);
  bool killed = false;
  std::size_t kill_index = 0;
  o.on_progress = [&](const Progress& p) {
    seen.push_back(p);
    if (!killed && p.done_bytes >= 4 * kMiB) {
      s.fs[1]->kill();
      killed = true;
      kill_index = seen.size();
    }
  };
  auto rep = Downloader(s.manifest, o).run();
  ASSERT_TRUE(rep.ok) << rep.error;
  ASSERT_TRUE(killed);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(std::count_if(seen.begin(), seen.end(), [](const Progress& p) { return p.final; }), 1);
  const Progress& last = seen.back();
  EXPECT_TRUE(last.final);
  EXPECT_EQ(last.servers_transferring, 0u);
  EXPECT_EQ(last.servers_active, 0u);
  EXPECT_EQ(last.chunks_total, 24u);
  EXPECT_EQ(last.chunks_verified, 24u);
  EXPECT_EQ(last.chunks_resumed, 0u);
  EXPECT_EQ(last.done_bytes, 24 * kMiB);
  EXPECT_GT(last.elapsed_s, 0);
  ASSERT_EQ(last.servers.size(), 3u);
  for (const auto& sp : last.servers) {
    EXPECT_NE(sp.state, "transferring") << sp.id;
    EXPECT_NE(sp.state, "waiting") << sp.id;
    EXPECT_EQ(sp.connections, 0u) << sp.id;
  }
  const ServerProgress* dead = server(last, "fs-b");
  ASSERT_NE(dead, nullptr);
  EXPECT_TRUE(dead->state == "dropped" || dead->state == "backing-off") << dead->state;
  EXPECT_FALSE(dead->reason.empty());
  // While it ran: servers were seen transferring, with their bytes and speed.
  bool transferring = false;
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
    EXPECT_FALSE(seen[i].final);
    for (const auto& sp : seen[i].servers)
      if (sp.state == "transferring") {
        transferring = true;
        EXPECT_GT(sp.connections, 0u);
      }
    EXPECT_LE(seen[i].servers_transferring, seen[i].servers_active);
  }
  EXPECT_TRUE(transferring);
  // After the kill the dead server was shown backing off or dropped with a reason at least once
  // before the end.
  bool shown = false;
  for (std::size_t i = kill_index; i < seen.size(); ++i) {
    const ServerProgress* b = server(seen[i], "fs-b");
    shown |= b && (b->state == "dropped" || b->state == "backing-off") && !b->reason.empty();
  }
  EXPECT_TRUE(shown);
  EXPECT_EQ(server(last, "fs-a")->state, "idle");
  EXPECT_GT(server(last, "fs-a")->bytes + server(last, "fs-c")->bytes, 0u);
}

// Every server dies before any chunk is verified: the download fails (exit 7), the final call
// shows each server dropped with its reason, and nothing is left on disk.
TEST(EngineProgress, NothingVerifiedLeavesNothingAndShowsServersDropped) {
  Servers s(8 * kMiB);
  for (auto& f : s.fs) f->faults.die_after = 256 << 10;
  std::vector<Progress> seen;
  auto o = s.options(seen);
  o.max_failures = 2;
  auto rep = Downloader(s.manifest, o).run();
  EXPECT_EQ(rep.exit_code, exit_code::kIncomplete) << rep.error;
  EXPECT_EQ(rep.chunks_fetched, 0u);
  EXPECT_NE(rep.error.find("nothing is kept"), std::string::npos) << rep.error;
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(seen.back().final);
  EXPECT_EQ(seen.back().servers_usable, 0u);
  for (const auto& sp : seen.back().servers) {
    EXPECT_EQ(sp.state, "dropped") << sp.id;
    EXPECT_FALSE(sp.reason.empty()) << sp.id;
  }
  EXPECT_FALSE(exists(s.out() + ".dfd-part"));
  EXPECT_FALSE(exists(s.out() + ".dfd-state"));
  EXPECT_FALSE(exists(s.out()));
}

// A run that ends before opening anything (the output exists) still makes one final call.
TEST(EngineProgress, FinalCallAlsoWhenNothingStarted) {
  Servers s(2 * kMiB);
  dfd::test::write_file(s.out(), "mine");
  std::vector<Progress> seen;
  auto rep = Downloader(s.manifest, s.options(seen)).run();
  EXPECT_EQ(rep.exit_code, exit_code::kExists);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].final);
  EXPECT_EQ(dfd::test::read_file(s.out()), "mine");
}
