// Integration tests of the real `dfd` binary over real HTTP on 127.0.0.1 against TestServer
// instances (an info endpoint and three file servers with fault switches).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli_cluster.hpp"
#include "harness.hpp"
#include "state_file.hpp"
#include "test_file_server.hpp"

using dfd::test::TestFile;
using dfd::test::TestServer;
using nlohmann::json;

using namespace dfd::test::cli;

namespace {

// Every server sends 8 MiB/s per connection and fs-c freezes (like SIGSTOP) after 2 MiB; logged in.
void freeze_fs_c_after_2_mib(Cluster& c) {
  c.fs[2]->faults.stall_after = 2 * kMiB;
  for (auto& s : c.fs) s->faults.rate = 8 * kMiB;
  c.login();
}

}  // namespace

TEST(ClientCli, LoginStoresCredentialsWithMode0600) {
  Cluster c;
  auto bad = c.dfd({"login", "--email", "ann@example.org", "--password-stdin"}, "wrong\n");
  EXPECT_EQ(bad.status, 3) << bad.output;
  EXPECT_NE(bad.output.find("dfd: login failed: invalid email or password"), std::string::npos)
      << bad.output;
  c.login();
  std::string path = c.dir.file("config/dfd/credentials");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(c.dir.file("config/dfd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto j = json::parse(dfd::test::read_file(path));
  EXPECT_EQ(j["token"], "user-token-1");
  EXPECT_EQ(j["server"], c.info.url());
  EXPECT_EQ(j["email"], "ann@example.org");
  EXPECT_EQ(j["expires_at"], "2030-01-01T00:00:00Z");

  auto out = c.dfd({"logout"});
  EXPECT_EQ(out.status, 0) << out.output;
  EXPECT_NE(::stat(path.c_str(), &st), 0);
  auto ls = c.dfd({"ls"});
  EXPECT_EQ(ls.status, 3) << ls.output;
  EXPECT_NE(ls.output.find("not logged in"), std::string::npos) << ls.output;
}

TEST(ClientCli, LsAndInfo) {
  Cluster c;
  c.login();
  auto ls = c.dfd({"ls"});
  ASSERT_EQ(ls.status, 0) << ls.output;
  EXPECT_NE(ls.output.find("ID"), std::string::npos);
  EXPECT_NE(ls.output.find("movie.bin"), std::string::npos);
  EXPECT_NE(ls.output.find("24.0 MiB"), std::string::npos) << ls.output;
  EXPECT_NE(ls.output.find(c.file.uid.substr(0, 12)), std::string::npos) << ls.output;
  EXPECT_EQ(ls.output.find(c.file.uid.substr(0, 13)), std::string::npos) << ls.output;

  auto lj = c.dfd({"ls", "--json"});
  ASSERT_EQ(lj.status, 0) << lj.output;
  auto j = json::parse(lj.output);
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["size"], 24 * kMiB);

  auto info = c.dfd({"info", "7", "--json"});
  ASSERT_EQ(info.status, 0) << info.output;
  auto ij = json::parse(info.output);
  EXPECT_EQ(ij["uid"], c.file.uid);
  EXPECT_FALSE(ij.contains("download_token"));  // never printed

  auto missing = c.dfd({"info", "99"});
  EXPECT_EQ(missing.status, 5) << missing.output;
  EXPECT_NE(missing.output.find("no file with id 99"), std::string::npos) << missing.output;
}

TEST(ClientGet, ExactBytesFromThreeServersAllContributing) {
  Cluster c;
  c.login();
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  ASSERT_TRUE(rep.is_object()) << r.output;
  EXPECT_TRUE(rep["digest_verified"].get<bool>());
  EXPECT_EQ(rep["chunks_fetched"], 24);
  ASSERT_EQ(rep["servers"].size(), 3u);
  std::uint64_t sum = 0;
  for (const auto& s : rep["servers"]) {
    EXPECT_GT(s["bytes"].get<std::uint64_t>(), 0u) << s.dump();
    sum += s["bytes"].get<std::uint64_t>();
  }
  EXPECT_EQ(sum, 24 * kMiB);
  // Keep-alive: connections are reused (at most 4 per server), not one per chunk.
  std::uint64_t conns = 0, reqs = 0;
  for (auto& s : c.fs) {
    EXPECT_LE(s->connections.load(), 4u) << s->id();
    conns += s->connections.load();
    reqs += s->content_requests.load();
  }
  EXPECT_GE(reqs, 24u);
  EXPECT_LT(conns, reqs);
  struct stat st {};
  EXPECT_NE(::stat((c.out() + ".dfd-part").c_str(), &st), 0);
  EXPECT_NE(::stat((c.out() + ".dfd-state").c_str(), &st), 0);
}

TEST(ClientGet, OtherDigestAlgorithms) {
  for (std::string alg : {"sha512", "sha3-256", "blake2b-512"}) {
    Cluster c(3 * kMiB + 12345, 256 * 1024, alg);
    c.login();
    auto r = c.dfd(get_args(c));
    ASSERT_EQ(r.status, 0) << alg << "\n" << r.output;
    EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data) << alg;
  }
}

TEST(ClientGet, LyingServerIsNamedAndDownloadCompletes) {
  Cluster c;
  c.fs[1]->faults.corrupt_all = true;
  c.login();
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  const json* b = server_in(rep, "fs-b");
  ASSERT_NE(b, nullptr);
  EXPECT_GE((*b)["strikes"].get<int>(), 3) << b->dump();
  EXPECT_TRUE((*b)["dropped"].get<bool>());
  EXPECT_EQ((*b)["bytes"], 0);
  // The text report names it too.
  std::filesystem::remove(c.out());
  auto t = c.dfd({"get", "7", "-o", c.out(), "--no-progress"});
  ASSERT_EQ(t.status, 0) << t.output;
  EXPECT_NE(t.output.find("fs-b"), std::string::npos);
  EXPECT_NE(t.output.find("dropped: 3 strikes"), std::string::npos) << t.output;
}

TEST(ClientGet, FewFlippedBytesOnTwoServers) {
  Cluster c;
  // One byte of chunk 3 is wrong on fs-a and fs-b (the first fill hands chunk 3 to one of them);
  // only fs-c has it right.
  c.fs[0]->faults.corrupt_offset = 3 * kMiB + 777;
  c.fs[1]->faults.corrupt_offset = 3 * kMiB + 12345;
  c.login();
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  int strikes = (*server_in(rep, "fs-a"))["strikes"].get<int>() +
                (*server_in(rep, "fs-b"))["strikes"].get<int>();
  EXPECT_GE(strikes, 1) << r.output;
  EXPECT_EQ((*server_in(rep, "fs-c"))["strikes"].get<int>(), 0);
}

TEST(ClientGet, WrongContentRangeIsAStrike) {
  Cluster c;
  c.fs[2]->faults.range_shift = 1;
  c.login();
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  const json* s = server_in(rep, "fs-c");
  ASSERT_NE(s, nullptr);
  EXPECT_GE((*s)["strikes"].get<int>(), 1);
  EXPECT_NE((*s)["last_error"].get<std::string>().find("Content-Range"), std::string::npos);
}

TEST(ClientGet, StallingServerDoesNotBlockTheDownload) {
  Cluster c;
  freeze_fs_c_after_2_mib(c);
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.dfd(get_args(c, {"--stall-timeout", "2"}));
  auto dt = std::chrono::steady_clock::now() - t0;
  c.fs[2]->release_stall();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  // End-game duplicates finish the stalled chunks without waiting out every stall.
  EXPECT_LT(std::chrono::duration<double>(dt).count(), 6.0);
  auto rep = report_of(r.output);
  // Normally end-game duplicates take over fs-c's chunks; on a very busy machine the stall
  // timeout may fire first and move them instead. Either way fs-c's chunks went elsewhere.
  EXPECT_TRUE(rep["duplicates"].get<int>() > 0 ||
              (*server_in(rep, "fs-c"))["retries"].get<int>() > 0)
      << r.output;
}

// A server that goes silent (frozen after 2 MiB) with a stall timeout far longer than the whole
// download: its chunks are taken over as soon as it is silent, not only in the end game, and the
// report counts that against it.
TEST(ClientGet, SilentServerLosesItsChunksLongBeforeTheStallTimeout) {
  Cluster c;
  freeze_fs_c_after_2_mib(c);
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.dfd(get_args(c, {"--stall-timeout", "60"}));
  auto dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.fs[2]->release_stall();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  EXPECT_LT(dt, 20.0) << r.output;
  auto rep = report_of(r.output);
  auto* s = server_in(rep, "fs-c");
  ASSERT_NE(s, nullptr) << r.output;
  EXPECT_GT((*s)["retries"].get<int>(), 0) << r.output;
  EXPECT_NE((*s)["last_error"].get<std::string>().find("silent: no data for"), std::string::npos)
      << r.output;
  EXPECT_GT(rep["duplicates"].get<int>(), 0) << r.output;
  for (const char* id : {"fs-a", "fs-b"}) {
    auto* o = server_in(rep, id);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ((*o)["retries"].get<int>(), 0) << id << ": " << r.output;
  }
}

// --silent-after raised above the whole download: the frozen server's chunks are only duplicated
// in the end game, and nothing is charged to it as silent.
TEST(ClientGet, SilentAfterIsConfigurable) {
  Cluster c;
  freeze_fs_c_after_2_mib(c);
  auto r = c.dfd(get_args(c, {"--stall-timeout", "60", "--silent-after", "30"}));
  c.fs[2]->release_stall();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  auto* s = server_in(rep, "fs-c");
  ASSERT_NE(s, nullptr) << r.output;
  EXPECT_EQ((*s)["last_error"].get<std::string>().find("silent"), std::string::npos) << r.output;
  EXPECT_GT(rep["duplicates"].get<int>(), 0) << r.output;
  // Out of range is a usage error.
  auto bad = c.dfd(get_args(c, {"--silent-after", "0"}));
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("--silent-after"), std::string::npos) << bad.output;
}

// The client itself stopped (SIGSTOP, like Ctrl-Z or a suspended laptop) for far longer than the
// silence threshold and the stall timeout: after SIGCONT no server is blamed for the pause (the
// loop reads what arrived during the pause before it checks for stalls, and a server holding a
// silent-looking copy itself takes no other server's chunk).
TEST(ClientGet, ClientsOwnPauseIsNotBlamedOnServers) {
  Cluster c;
  for (auto& s : c.fs) s->faults.rate = kMiB;  // per connection: 24 MiB at 12 MiB/s, about 2 s
  c.login();
  auto args = get_args(c, {"--stall-timeout", "0.5", "--silent-after", "0.2"});
  args.insert(args.begin(), dfd::test::bin("dfd"));
  dfd::test::Process p(args, c.env);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ASSERT_TRUE(p.running()) << p.log();
  p.signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  p.signal(SIGCONT);
  ASSERT_EQ(p.wait(std::chrono::seconds(30)), 0) << p.log();
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(p.log());
  ASSERT_TRUE(rep.is_object()) << p.log();
  for (const char* id : {"fs-a", "fs-b", "fs-c"}) {
    auto* s = server_in(rep, id);
    ASSERT_NE(s, nullptr) << p.log();
    EXPECT_EQ((*s)["retries"].get<int>(), 0) << id << ": " << p.log();
    EXPECT_FALSE((*s)["dropped"].get<bool>()) << id << ": " << p.log();
  }
}

TEST(ClientGet, ServerDyingMidwayDoesNotFailTheDownload) {
  Cluster c;
  c.fs[0]->faults.die_after = 3 * kMiB + 100;
  for (auto& s : c.fs) s->faults.rate = 16 * kMiB;
  c.login();
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  const json* a = server_in(rep, "fs-a");
  ASSERT_NE(a, nullptr);
  EXPECT_GE((*a)["retries"].get<int>(), 1) << a->dump();
}

TEST(ClientGet, ServerErrorsAreRetried) {
  Cluster c;
  c.fs[1]->faults.fail_status = 500;
  c.fs[1]->faults.fail_count = 3;
  c.login();
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  EXPECT_GE((*server_in(rep, "fs-b"))["retries"].get<int>(), 3);
}

TEST(ClientGet, EveryServerGoneKeepsStateAndSaysSo) {
  Cluster c;
  for (auto& s : c.fs) s->faults.die_after = 4 * kMiB;  // together: dead after ~12 MiB at most
  c.login();
  auto r = c.dfd(get_args(c));
  EXPECT_EQ(r.status, 7) << r.output;
  EXPECT_NE(r.output.find("every file server failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fs-a"), std::string::npos);
  struct stat st {};
  EXPECT_EQ(::stat((c.out() + ".dfd-part").c_str(), &st), 0);
  auto state = dfd::client::load_state(c.out() + ".dfd-state");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->uid, c.file.uid);
  EXPECT_GT(state->verified_count(), 0u);
  EXPECT_NE(::stat(c.out().c_str(), &st), 0);  // nothing unverified at PATH
}

TEST(ClientGet, ResumeFetchesOnlyTheMissingChunks) {
  Cluster c;
  c.login();
  auto first = c.dfd(get_args(c, {"--stop-after-chunks", "12"}));
  EXPECT_EQ(first.status, 130) << first.output;
  auto state = dfd::client::load_state(c.out() + ".dfd-state");
  ASSERT_TRUE(state.has_value());
  EXPECT_GE(state->verified_count(), 12u);
  std::uint64_t before = c.served();
  auto second = c.dfd(get_args(c));
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(second.output);
  EXPECT_EQ(rep["chunks_resumed"].get<std::size_t>(), state->verified_count());
  std::uint64_t again = c.served() - before;
  // Needed: only the missing chunks (under 60 %); served: those plus at most 4 end-game duplicates.
  EXPECT_LT((24 - state->verified_count()) * kMiB, 24 * kMiB * 6 / 10);
  EXPECT_LE(again, (24 - state->verified_count()) * kMiB + 4 * kMiB) << again;
}

TEST(ClientGet, ResumeAfterKill9) {
  Cluster c;
  // 12 connections x 512 KiB/s: chunks complete in waves of 12 every 2 s.
  for (auto& s : c.fs) s->faults.rate = 512 * 1024;
  c.login();
  auto args = get_args(c);
  args.insert(args.begin(), dfd::test::bin("dfd"));
  std::string state_path = c.out() + ".dfd-state";
  {
    dfd::test::Process p(args, c.env);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::size_t verified = 0;
    while (std::chrono::steady_clock::now() < end) {
      auto st = dfd::client::load_state(state_path);
      verified = st ? st->verified_count() : 0;
      if (verified >= 12) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_GE(verified, 12u);
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait(std::chrono::seconds(5)), 128 + SIGKILL);
  }
  auto st = dfd::client::load_state(state_path);
  ASSERT_TRUE(st.has_value());
  for (auto& s : c.fs) s->faults.rate = 0;
  // The servers may still be counting bytes written to the killed client's sockets (a loaded
  // machine notices the closed peers late): wait until the count settles before measuring.
  std::uint64_t before = c.served();
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::uint64_t now = c.served();
    if (now == before) break;
    before = now;
  }
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  std::uint64_t again = c.served() - before;
  // Only the chunks the state lacked are needed (well under 60 % of the file); the bytes served
  // may exceed them by the end game's duplicate requests (at most 4 chunks here), as in
  // ResumeFetchesOnlyTheMissingChunks. (e2e_client_test checks the 60 % on the real cluster.)
  EXPECT_LT((24 - st->verified_count()) * kMiB, 24 * kMiB * 6 / 10);
  EXPECT_LE(again, (24 - st->verified_count()) * kMiB + 4 * kMiB) << again;
}

TEST(ClientGet, StateOfAnotherFileStartsOver) {
  Cluster c;
  c.login();
  dfd::client::DownloadState other;
  other.uid = "00ff";
  other.size = 24 * kMiB;
  other.chunk_size = kMiB;
  other.alg = "sha256";
  other.verified.assign(24, true);
  ASSERT_EQ(dfd::client::save_state(c.out() + ".dfd-state", other), 0);
  dfd::test::write_file(c.out() + ".dfd-part", std::string(24 * kMiB, 'x'));
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  EXPECT_TRUE(rep["restarted"].get<bool>());
  EXPECT_EQ(rep["chunks_fetched"], 24);
}

TEST(ClientGet, TamperedPartIsCaughtByTheWholeFileDigest) {
  Cluster c;
  c.login();
  auto first = c.dfd(get_args(c, {"--stop-after-chunks", "12"}));
  ASSERT_EQ(first.status, 130) << first.output;
  // Damage a verified chunk behind the client's back: the state trusts it, the digest must not.
  {
    std::FILE* f = std::fopen((c.out() + ".dfd-part").c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 100, SEEK_SET);
    std::fputc(((*c.file.data)[100] ^ 1) & 0xff, f);
    std::fclose(f);
  }
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
}

TEST(ClientGet, ExistingOutputNeedsForce) {
  Cluster c;
  c.login();
  dfd::test::write_file(c.out(), "precious");
  auto r = c.dfd(get_args(c));
  EXPECT_EQ(r.status, 6) << r.output;
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), "precious");
  auto f = c.dfd(get_args(c, {"--force"}));
  ASSERT_EQ(f.status, 0) << f.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
}

TEST(ClientGet, RefusedTokenIsRenewedOnce) {
  // The first manifest carries a token the file servers do not know; the second a good one.
  Cluster c(8 * kMiB, kMiB, "sha256", {"stale", "fresh"}, {"fresh"});
  c.login();
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(dfd::test::read_file(c.out()), *c.file.data);
  auto rep = report_of(r.output);
  EXPECT_EQ(rep["token_renewals"], 1);
  EXPECT_EQ(c.info.manifest_requests.load(), 2u);
}

TEST(ClientGet, NoIdListsAndAsks) {
  Cluster c(2 * kMiB);
  c.login();
  auto old = std::filesystem::current_path();
  std::filesystem::current_path(c.dir.path());
  auto r = c.dfd({"get", "--no-progress"}, "7\n");
  std::filesystem::current_path(old);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("movie.bin"), std::string::npos);
  EXPECT_EQ(dfd::test::read_file(c.dir.file("movie.bin")), *c.file.data);
}

TEST(ClientGet, FasterServerCarriesMore) {
  Cluster c(32 * kMiB);
  c.fs[0]->faults.rate = 1 * kMiB;  // fs-a is slow
  c.login();
  auto r = c.dfd(get_args(c));
  ASSERT_EQ(r.status, 0) << r.output;
  auto rep = report_of(r.output);
  auto a = (*server_in(rep, "fs-a"))["bytes"].get<std::uint64_t>();
  auto b = (*server_in(rep, "fs-b"))["bytes"].get<std::uint64_t>();
  EXPECT_LT(a, b) << r.output;
}

TEST(ClientGet, InterruptKeepsStateAndExits130) {
  Cluster c;
  for (auto& s : c.fs) s->faults.rate = 512 * 1024;
  c.login();
  auto args = get_args(c);
  args.insert(args.begin(), dfd::test::bin("dfd"));
  dfd::test::Process p(args, c.env);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < end && c.served() < 2 * kMiB)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(std::chrono::seconds(10)), 130) << p.log();
  EXPECT_NE(p.log().find("interrupted"), std::string::npos) << p.log();
  auto st = dfd::client::load_state(c.out() + ".dfd-state");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->uid, c.file.uid);
  struct stat sb {};
  EXPECT_NE(::stat(c.out().c_str(), &sb), 0);
}

TEST(ClientGet, LocalWriteErrorsAreReportedPlainly) {
  Cluster c(4 * kMiB);
  c.login();
  // Missing folders are created (issue 13); a file in the way of one is a local error.
  dfd::test::write_file(c.dir.file("plain"), "x");
  auto r = c.dfd({"get", "7", "-o", c.dir.file("plain/dir/out.bin"), "--no-progress"});
  EXPECT_EQ(r.status, 9) << r.output;
  EXPECT_NE(r.output.find("cannot create the folder " + c.dir.file("plain") + ": Not a directory"),
            std::string::npos)
      << r.output;
  // A file size limit (like a full disk): the allocation fails with EFBIG.
  auto sh = dfd::test::run({"bash", "-c", "ulimit -f 1024; exec \"$0\" \"$@\"",
                            dfd::test::bin("dfd"), "get", "7", "-o", c.out(), "--no-progress"},
                           "", c.env);
  EXPECT_EQ(sh.status, 9) << sh.output;
  EXPECT_NE(sh.output.find("disk full or file size limit"), std::string::npos) << sh.output;
  struct stat sb {};
  EXPECT_NE(::stat(c.out().c_str(), &sb), 0);
}
