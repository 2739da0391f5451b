// Unit tests of the client's pure logic: sizes, ChunkPlanner, state file (manifest:
// client_hostile_input_test; Content-Range: tests/sdk/wire_range_test.cpp).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "chunk_planner.hpp"
#include "curl_policy.hpp"
#include "harness.hpp"
#include "location_policy.hpp"
#include "manifest.hpp"
#include "state_file.hpp"
#include "util.hpp"

using namespace dfd::client;

TEST(HumanSize, Units) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1.0 KiB");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(1048575), "1.0 MiB");
  EXPECT_EQ(human_size(24u << 20), "24.0 MiB");
  EXPECT_EQ(human_size(1ull << 30), "1.0 GiB");
  EXPECT_EQ(human_size(5ull << 40), "5.0 TiB");
  EXPECT_EQ(human_duration(42), "42s");
  EXPECT_EQ(human_duration(65), "1m05s");
  EXPECT_EQ(human_rate(0), "0 B/s");
}

TEST(ChunkPlannerTest, AssignsLowestFirstAndRequeuesFailures) {
  ChunkPlanner p(5);
  auto now = ChunkPlanner::Clock::now();
  EXPECT_EQ(p.assign(0, now), 0u);
  EXPECT_EQ(p.assign(1, now), 1u);
  EXPECT_EQ(p.assign(0, now), 2u);
  EXPECT_EQ(p.unassigned(), 2u);
  p.release(1, 1);  // failed → back in the queue, lowest first again
  EXPECT_EQ(p.assign(2, now), 1u);
  EXPECT_TRUE(p.complete(0, 0).empty());
  EXPECT_EQ(p.verified_prefix(), 1u);
  EXPECT_TRUE(p.complete(2, 0).empty());
  EXPECT_EQ(p.verified_prefix(), 1u);  // chunk 1 still missing
  EXPECT_TRUE(p.complete(1, 2).empty());
  EXPECT_EQ(p.verified_prefix(), 3u);
  EXPECT_EQ(p.verified_count(), 3u);
  EXPECT_FALSE(p.done());
  EXPECT_EQ(p.assign(0, now), 3u);
  EXPECT_EQ(p.assign(0, now), 4u);
  EXPECT_FALSE(p.assign(0, now));
  p.complete(3, 0);
  p.complete(4, 0);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.verified_prefix(), 5u);
}

TEST(ChunkPlannerTest, ReleaseOfUnknownCopyIsIgnored) {
  ChunkPlanner p(2);
  auto now = ChunkPlanner::Clock::now();
  p.assign(0, now);
  p.release(0, 7);  // server 7 holds nothing
  EXPECT_EQ(p.copies(0), 1u);
  EXPECT_EQ(p.unassigned(), 1u);
}

TEST(ChunkPlannerTest, EndGameDuplicatesOldestChunkOfAnotherServer) {
  ChunkPlanner p(3);
  auto t0 = ChunkPlanner::Clock::now();
  using std::chrono::milliseconds;
  p.assign(0, t0);                     // chunk 0 on server 0, oldest
  p.assign(1, t0 + milliseconds(10));  // chunk 1 on server 1
  p.assign(0, t0 + milliseconds(20));  // chunk 2 on server 0
  auto always = [](std::size_t, int) { return true; };
  // Not while unassigned chunks remain — here none remain, so server 2 may duplicate.
  auto d = p.assign_duplicate(2, t0 + milliseconds(30), always);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, 0u);
  EXPECT_EQ(p.copies(0), 2u);
  // Server 2 again: chunk 0 is its own now; next oldest is chunk 1.
  d = p.assign_duplicate(2, t0 + milliseconds(30), always);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, 1u);
  // Server 0 may not duplicate its own chunk 2, and 0/1 have two copies (max).
  EXPECT_FALSE(p.assign_duplicate(0, t0, always));
  // The predicate can refuse.
  EXPECT_FALSE(p.assign_duplicate(1, t0, [](std::size_t, int) { return false; }));
  // First verified copy wins: the other holder is returned for cancellation.
  auto others = p.complete(0, 2);
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0], 0);
  EXPECT_EQ(p.copies(0), 0u);
  p.release(0, 0);  // the cancelled copy's late release changes nothing
  EXPECT_TRUE(p.verified(0));
  EXPECT_EQ(p.unassigned(), 0u);
}

TEST(ChunkPlannerTest, DuplicateOnlyWhenNothingUnassigned) {
  ChunkPlanner p(3);
  auto now = ChunkPlanner::Clock::now();
  p.assign(0, now);
  EXPECT_FALSE(p.assign_duplicate(1, now, nullptr));
  // A failed original with a live duplicate stays in flight, not requeued.
  p.assign(0, now);
  p.assign(0, now);
  ASSERT_TRUE(p.assign_duplicate(1, now, nullptr));
  p.release(0, 0);
  EXPECT_EQ(p.unassigned(), 0u);
  EXPECT_EQ(p.copies(0), 1u);
}

TEST(ChunkPlannerTest, RescueTakesAStalledCopyBeforeTheEndGame) {
  ChunkPlanner p(6);
  auto t0 = ChunkPlanner::Clock::now();
  using std::chrono::milliseconds;
  p.assign(0, t0);                     // chunk 0 on server 0
  p.assign(1, t0 + milliseconds(10));  // chunk 1 on server 1
  p.assign(1, t0 + milliseconds(20));  // chunk 2 on server 1
  ASSERT_EQ(p.unassigned(), 3u);       // not the end game: assign_duplicate refuses
  auto always = [](std::size_t, int) { return true; };
  EXPECT_FALSE(p.assign_duplicate(2, t0, always));
  // No predicate, or one that calls nothing stalled: no rescue.
  EXPECT_FALSE(p.assign_rescue(2, t0, nullptr));
  EXPECT_FALSE(p.assign_rescue(2, t0, [](std::size_t, int) { return false; }));
  // Server 1's copies are stalled: server 2 gets the one that started first (chunk 1), then 2.
  auto server1 = [](std::size_t, int holder) { return holder == 1; };
  auto r = p.assign_rescue(2, t0 + milliseconds(400), server1);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1u);
  EXPECT_EQ(p.copies(1), 2u);
  r = p.assign_rescue(2, t0 + milliseconds(400), server1);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2u);
  // Nothing left that server 1 holds alone; a server never gets a copy of a chunk it holds.
  EXPECT_FALSE(p.assign_rescue(2, t0, server1));
  EXPECT_FALSE(p.assign_rescue(0, t0, [](std::size_t c, int) { return c == 0; }));
  // The rescuer's copy verifies first: the stalled holder is returned for cancelling.
  auto others = p.complete(1, 2);
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0], 1);
  // Fresh chunks were never touched.
  EXPECT_EQ(p.unassigned(), 3u);
  EXPECT_EQ(*p.assign(0, t0), 3u);
}

TEST(ChunkPlannerTest, ResumedChunksAreSkipped) {
  ChunkPlanner p(4);
  p.mark_verified(0);
  p.mark_verified(2);
  auto now = ChunkPlanner::Clock::now();
  EXPECT_EQ(p.verified_prefix(), 1u);
  EXPECT_EQ(p.assign(0, now), 1u);
  EXPECT_EQ(p.assign(0, now), 3u);
  EXPECT_FALSE(p.assign(0, now));
}

TEST(StateFile, RoundTrip) {
  DownloadState s;
  s.uid = "abcd";
  s.size = 10 * 1024 + 5;
  s.chunk_size = 1024;
  s.alg = "sha256";
  s.verified.assign(11, false);
  s.verified[0] = s.verified[3] = s.verified[10] = true;
  auto d = decode_state(encode_state(s));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->uid, s.uid);
  EXPECT_EQ(d->size, s.size);
  EXPECT_EQ(d->chunk_size, s.chunk_size);
  EXPECT_EQ(d->verified, s.verified);
  EXPECT_EQ(d->verified_count(), 3u);
  EXPECT_TRUE(d->matches("abcd", s.size, 1024, "sha256"));
  EXPECT_FALSE(d->matches("abce", s.size, 1024, "sha256"));

  dfd::test::TempDir dir;
  std::string path = dir.file("x.dfd-state");
  EXPECT_FALSE(load_state(path));
  ASSERT_EQ(save_state(path, s), 0);
  auto l = load_state(path);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->verified, s.verified);
  struct stat st {};
  EXPECT_NE(::stat((path + ".tmp").c_str(), &st), 0);  // no temp left behind
}

TEST(StateFile, CorruptionIsDetected) {
  DownloadState s;
  s.uid = "ab";
  s.size = 9;
  s.chunk_size = 1;
  s.alg = "sha256";
  s.verified.assign(9, true);
  std::string good = encode_state(s);
  std::string why;
  EXPECT_FALSE(decode_state("", &why));
  EXPECT_FALSE(decode_state(good.substr(0, good.size() / 2), &why));
  EXPECT_FALSE(decode_state("{\"v\":2}", &why));
  auto j = nlohmann::json::parse(good);
  j["chunks"] = 10;
  EXPECT_FALSE(decode_state(j.dump(), &why));
  j = nlohmann::json::parse(good);
  j["verified"] = "ff";  // 9 chunks need 2 bytes
  EXPECT_FALSE(decode_state(j.dump(), &why)) << why;
  j["verified"] = "ffff";  // stray bits beyond chunk 9
  EXPECT_FALSE(decode_state(j.dump(), &why));
  EXPECT_EQ(why, "stray bits in bitmap");
  j["verified"] = "ff01";
  EXPECT_TRUE(decode_state(j.dump(), &why));
  j["verified"] = "zz01";
  EXPECT_FALSE(decode_state(j.dump(), &why));
  j = nlohmann::json::parse(good);
  j["chunk_size"] = 0;
  EXPECT_FALSE(decode_state(j.dump(), &why));
}

namespace {
Manifest with_locations(std::vector<std::string> urls) {
  Manifest m;
  m.name = "f.bin";
  for (auto& u : urls) m.locations.push_back({"s-" + std::to_string(m.locations.size()), "z", u});
  return m;
}
}  // namespace

TEST(LocationPolicy, HttpsManifestDropsPlainHttpLocationsWithAWarning) {
  Manifest m = with_locations({"http://a:1", "https://b:2", "HTTP://c:3"});
  std::vector<std::string> warnings;
  apply_location_policy(m, {true, false}, [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_EQ(m.locations.size(), 1u);
  EXPECT_EQ(m.locations[0].url, "https://b:2");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("skipping location http://a:1"), std::string::npos);
}

TEST(LocationPolicy, NothingLeftIsATlsError) {
  Manifest m = with_locations({"http://a:1"});
  try {
    apply_location_policy(m, {true, false}, nullptr);
    FAIL() << "no error";
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code, exit_code::kTls);
    EXPECT_NE(std::string(e.what()).find("--allow-insecure-locations"), std::string::npos);
  }
}

TEST(LocationPolicy, AllowedOrPlainManifestsAreKept) {
  Manifest m = with_locations({"http://a:1"});
  apply_location_policy(m, {true, true}, nullptr);  // --allow-insecure-locations
  EXPECT_EQ(m.locations.size(), 1u);
  apply_location_policy(m, {false, false}, nullptr);  // the manifest came over plain http
  EXPECT_EQ(m.locations.size(), 1u);
}

TEST(TlsFailureMessage, NamesTheUrlAndTheWayOut) {
  auto m = tls_failure_message(CURLE_PEER_FAILED_VERIFICATION, "https://127.0.0.1:9", "why");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m,
            "TLS certificate of https://127.0.0.1:9 not trusted: why; pass --cacert FILE or set "
            "DFD_CA_BUNDLE");
  EXPECT_FALSE(tls_failure_message(CURLE_COULDNT_CONNECT, "https://127.0.0.1:9", "why"));
  EXPECT_NE(client_certificate_hint(CURLE_RECV_ERROR, "https://x:1"), "");
  EXPECT_EQ(client_certificate_hint(CURLE_RECV_ERROR, "http://x:1"), "");
}
