// Unit tests of ServerPacer (client/src/server_pacer.hpp): rates measured per window, a server's
// backlog held to its share of what is left, nobody starved.
#include "server_pacer.hpp"

#include <gtest/gtest.h>

namespace dfd::client {
namespace {

using std::chrono::milliseconds;
constexpr std::uint64_t kMiB = 1u << 20;

// Feeds `per_second[i]` bytes/s from server i for `ms` milliseconds in 50 ms steps, every
// server busy.
ServerPacer::Clock::time_point feed(ServerPacer& p, ServerPacer::Clock::time_point t,
                                    const std::vector<double>& per_second, int ms) {
  std::vector<bool> busy(per_second.size(), true);
  for (int step = 0; step < ms / 50; ++step) {
    for (std::size_t i = 0; i < per_second.size(); ++i)
      p.on_bytes(i, static_cast<std::uint64_t>(per_second[i] / 20));
    t += milliseconds(50);
    p.tick(t, busy);
  }
  return t;
}

// A pacer that has measured `per_second` for two seconds.
ServerPacer measured(const std::vector<double>& per_second) {
  ServerPacer p(milliseconds(250), 0.5);
  p.resize(per_second.size());
  auto t = ServerPacer::Clock::now();
  p.tick(t, std::vector<bool>(per_second.size(), true));
  feed(p, t, per_second, 2000);
  return p;
}

TEST(ServerPacerTest, MeasuresRatesOfBusyServers) {
  ServerPacer p(milliseconds(250), 0.5);
  p.resize(2);
  auto t = ServerPacer::Clock::now();
  p.tick(t, {true, true});
  EXPECT_FALSE(p.measured(0));  // nothing measured yet
  t = feed(p, t, {10e6, 2.5e6}, 1000);
  EXPECT_NEAR(p.rate(0), 10e6, 0.05 * 10e6);
  EXPECT_NEAR(p.rate(1), 2.5e6, 0.05 * 2.5e6);
}

TEST(ServerPacerTest, AnIdleServerKeepsItsEstimate) {
  ServerPacer p(milliseconds(250), 0.5);
  p.resize(2);
  auto t = ServerPacer::Clock::now();
  p.tick(t, {true, true});
  t = feed(p, t, {8e6, 8e6}, 1000);
  // Server 1 goes idle (no copy in flight): no bytes, but its rate is not taken for 0.
  for (int i = 0; i < 20; ++i) {
    p.on_bytes(0, 400000);
    t += milliseconds(50);
    p.tick(t, {true, false});
  }
  EXPECT_NEAR(p.rate(1), 8e6, 0.05 * 8e6);
}

TEST(ServerPacerTest, FollowsAThrottledLinkWithinAboutASecond) {
  ServerPacer p(milliseconds(250), 0.5);
  p.resize(1);
  auto t = ServerPacer::Clock::now();
  p.tick(t, {true});
  t = feed(p, t, {10e6}, 2000);
  t = feed(p, t, {1.25e6}, 1000);
  EXPECT_LT(p.rate(0), 2e6);
}

TEST(ServerPacerTest, BacklogIsHeldToTheServersShareOfWhatIsLeft) {
  ServerPacer p = measured({10e6, 5e6, 2.5e6});  // 80/40/20 Mbit/s
  std::vector<bool> usable{true, true, true};
  // 70 MB left: 4 s at 17.5 MB/s. The slow server (2.5 MB/s) may owe up to 10 MB.
  EXPECT_TRUE(p.may_start(2, 1, 4 * kMiB, 4 * kMiB, 70'000'000, usable));
  EXPECT_FALSE(p.may_start(2, 2, 8 * kMiB, 4 * kMiB, 70'000'000, usable));
  // The fast one may owe up to 40 MB.
  EXPECT_TRUE(p.may_start(0, 3, 12 * kMiB, 4 * kMiB, 70'000'000, usable));
  EXPECT_FALSE(p.may_start(0, 9, 36 * kMiB, 4 * kMiB, 70'000'000, usable));
  // Near the end the fast server still gets a chunk and the slow one does not.
  EXPECT_TRUE(p.may_start(0, 1, 2 * kMiB, 4 * kMiB, 20'000'000, usable));
  EXPECT_FALSE(p.may_start(2, 1, 2 * kMiB, 4 * kMiB, 20'000'000, usable));
}

TEST(ServerPacerTest, ADroppedServerDoesNotCountTowardsTheTotalRate) {
  ServerPacer p = measured({5e6, 5e6});
  // 20 MB left: 2 s for both together, 4 s for server 0 alone.
  EXPECT_FALSE(p.may_start(0, 2, 8 * kMiB, 4 * kMiB, 20'000'000, {true, true}));
  EXPECT_TRUE(p.may_start(0, 2, 8 * kMiB, 4 * kMiB, 20'000'000, {true, false}));
}

TEST(ServerPacerTest, NeverStarvesAndDoesNotLimitUnmeasuredServers) {
  ServerPacer p = measured({100e6, 1e3});
  std::vector<bool> usable{true, true};
  // Server 1 is 100000x slower, but with nothing in flight it may still take one chunk, as long
  // as at least 8 chunks are left; one more it may not.
  EXPECT_TRUE(p.may_start(1, 0, 0, 4 * kMiB, 32 * kMiB, usable));
  EXPECT_FALSE(p.may_start(1, 1, 4 * kMiB, 4 * kMiB, 32 * kMiB, usable));
  // In the tail it is left idle: the chunk would take it 100000x longer than the rest needs.
  EXPECT_FALSE(p.may_start(1, 0, 0, 4 * kMiB, 28 * kMiB, usable));
  // A server that would finish its one chunk within twice that still gets it in the tail.
  ServerPacer q = measured({10e6, 4e6});
  EXPECT_TRUE(q.may_start(1, 0, 0, 4 * kMiB, 8 * kMiB, usable));
  EXPECT_FALSE(q.may_start(1, 0, 0, 4 * kMiB, 4 * kMiB, usable));
  // A server added later (token renewal) is not limited until it has been measured.
  p.resize(3);
  EXPECT_TRUE(p.may_start(2, 5, 20 * kMiB, 4 * kMiB, 8 * kMiB, {true, true, true}));
}

TEST(ServerPacerTest, AServerHoldingFarMoreThanItsShareIsOvercommitted) {
  ServerPacer p = measured({10e6, 2.5e6});
  std::vector<bool> usable{true, true};
  // 100 MB left: 8 s at 12.5 MB/s. Four fresh 4 MiB copies on the slow server owe 16.8 MB,
  // 6.7 s of its link: within its share. Throttled to a tenth (after a second of it), they
  // would take over a minute: it gives copies back.
  EXPECT_FALSE(p.overcommitted(1, 4, 16 * kMiB, 100'000'000, usable));
  auto t = ServerPacer::Clock::now() + std::chrono::seconds(10);
  p.tick(t, {true, true});
  feed(p, t, {10e6, 0.25e6}, 1000);
  EXPECT_TRUE(p.overcommitted(1, 4, 16 * kMiB, 100'000'000, usable));
  // Within 1.5x of the horizon it keeps them (no back and forth with may_start's limit).
  EXPECT_FALSE(p.overcommitted(0, 4, 16 * kMiB, 100'000'000, usable));
}

TEST(ServerPacerTest, TheLastCopyIsNeverGivenBack) {
  ServerPacer p = measured({100e6, 1e3});
  EXPECT_FALSE(p.overcommitted(1, 1, 4 * kMiB, 8 * kMiB, {true, true}));
  EXPECT_TRUE(p.overcommitted(1, 2, 8 * kMiB, 8 * kMiB, {true, true}));
  // Not measured yet: nothing is given back.
  p.resize(3);
  EXPECT_FALSE(p.overcommitted(2, 4, 16 * kMiB, 8 * kMiB, {true, true, true}));
}

TEST(ServerPacerTest, AStoppedServerTakesNothingAndGivesBack) {
  ServerPacer p = measured({5e6, 5e6});
  auto t = ServerPacer::Clock::now() + std::chrono::seconds(10);
  // Server 1 stops (SIGSTOP): in flight but not a byte, for long enough to reach 0 exactly.
  for (int i = 0; i < 2000; ++i) {
    p.on_bytes(0, 5e6 / 4);
    t += milliseconds(250);
    p.tick(t, {true, true});
  }
  ASSERT_TRUE(p.measured(1));
  EXPECT_EQ(p.rate(1), 0);
  EXPECT_FALSE(p.may_start(1, 1, 1, 4 * kMiB, 100 * kMiB, {true, true}));
  EXPECT_TRUE(p.overcommitted(1, 2, 1, 100 * kMiB, {true, true}));
  EXPECT_TRUE(p.may_start(1, 0, 0, 4 * kMiB, 100 * kMiB, {true, true}));  // still never starved
}

}  // namespace
}  // namespace dfd::client
