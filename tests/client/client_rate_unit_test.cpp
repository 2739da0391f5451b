// Unit tests of the size/rate parser (units.hpp) and the speed limiter (rate_limiter.hpp), with a
// clock the test moves by hand.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "rate_limiter.hpp"
#include "units.hpp"

using namespace dfd::client;
using namespace std::chrono_literals;

TEST(ParseRate, PlainBytesAndSuffixes) {
  EXPECT_EQ(parse_rate("123"), 123.0);
  EXPECT_EQ(parse_rate("0"), 0.0);
  EXPECT_EQ(parse_rate("500K"), 500.0 * 1024);
  EXPECT_EQ(parse_rate("500k"), 500.0 * 1024);
  EXPECT_EQ(parse_rate("20M"), 20.0 * 1024 * 1024);
  EXPECT_EQ(parse_rate("1.5G"), 1.5 * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_rate("2T"), 2.0 * 1024 * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_rate("0.5K"), 512.0);
  EXPECT_EQ(parse_rate("1.25"), 1.25);
  EXPECT_EQ(parse_rate("007M"), 7.0 * 1024 * 1024);
}

TEST(ParseRate, ByteAndPerSecondForms) {
  const double m20 = 20.0 * 1024 * 1024;
  for (const char* s : {"20M", "20MB", "20MiB", "20M/s", "20MB/s", "20MiB/s", "20mib/s", "20mb"})
    EXPECT_EQ(parse_rate(s), m20) << s;
  EXPECT_EQ(parse_rate("64B"), 64.0);
  EXPECT_EQ(parse_rate("64B/s"), 64.0);
  EXPECT_EQ(parse_rate("64/s"), 64.0);
  EXPECT_EQ(parse_rate("1KiB"), 1024.0);
}

TEST(ParseRate, RefusesGarbage) {
  for (const char* s :
       {"",      "-1",    "-5M",   "+5M",  "5e3",  "0x10", "inf",  "nan", " 5M", "5M ", "5 M",
        "5..1M", "1.2.3", ".5M",   "5.",   "5.M",  "K",    "M",    "5X",  "5MM", "5iB", "5Mi B",
        "5MBs",  "5M/",   "5M/ss", "5M/h", "5/sM", "5Bi",  "1,5M", "5kk", "١٢"})
    EXPECT_FALSE(parse_rate(s)) << "'" << s << "'";
  EXPECT_FALSE(parse_rate(std::string_view("5\0M", 3)));
}

TEST(ParseRate, RefusesOverflow) {
  EXPECT_EQ(parse_rate("9007199254740992"), kMaxRate);  // 2^53: the largest accepted
  EXPECT_FALSE(parse_rate("9007199254740993000"));
  EXPECT_FALSE(parse_rate("8193T"));  // 2^53 + 1 TiB
  EXPECT_EQ(parse_rate("8192T"), kMaxRate);
  EXPECT_FALSE(parse_rate(std::string(400, '9')));  // would be inf
  EXPECT_FALSE(parse_rate(std::string(400, '9') + ".5"));
  EXPECT_EQ(parse_rate("0." + std::string(400, '0') + "1"), 0.0);  // tiny, not garbage
}

namespace {
using Clock = TokenBucket::Clock;
const Clock::time_point t0{};

// Drives a bucket as the transfer loop does: every `step`, if it is open, takes a piece of
// `piece` bytes. Returns the bytes taken over `span`.
double drive(TokenBucket& b, Clock::time_point start, Clock::duration span, Clock::duration step,
             double piece) {
  double taken = 0;
  for (auto now = start; now < start + span; now += step) {
    if (b.open(now)) {
      b.take(piece, now);
      taken += piece;
    }
  }
  return taken;
}
}  // namespace

TEST(TokenBucketTest, NoLimitIsAlwaysOpen) {
  TokenBucket b(0, t0);
  EXPECT_FALSE(b.limited());
  b.take(1e12, t0);
  EXPECT_TRUE(b.open(t0));
  EXPECT_EQ(b.until_open(t0), Clock::duration::zero());
}

TEST(TokenBucketTest, HoldsTheRateOverTenSeconds) {
  // 20 MiB/s taken in 512 KiB pieces as fast as a 1 ms loop can: within 2 % of 200 MiB in 10 s
  // (the only excess is the starting burst of 100 ms and one piece).
  const double rate = 20.0 * 1024 * 1024;
  TokenBucket b(rate, t0);
  double taken = drive(b, t0, 10s, 1ms, 512 * 1024);
  EXPECT_NEAR(taken, rate * 10, rate * 10 * 0.02);
  EXPECT_GE(taken, rate * 10 * 0.98);
}

TEST(TokenBucketTest, PiecesLargerThanTheBurstAreDebtPaidBack) {
  // 10 KiB/s with 64 KiB pieces: every piece closes the bucket for ~6.4 s; over 100 s the rate
  // still holds (16 pieces at most).
  TokenBucket b(10 * 1024, t0);
  double taken = drive(b, t0, 100s, 10ms, 64 * 1024);
  EXPECT_LE(taken, 10 * 1024 * 100 + 64 * 1024 + 1024);
  EXPECT_GE(taken, 10 * 1024 * 100 - 64 * 1024);
}

TEST(TokenBucketTest, ClosedUntilTheResumeLevelAndSaysHowLong) {
  const double rate = 1000 * 1000;  // 1 MB/s: resume level 20 kB, burst 100 kB
  TokenBucket b(rate, t0);
  EXPECT_TRUE(b.open(t0));
  EXPECT_NEAR(b.tokens(t0), 100000, 1);
  b.take(150000, t0);  // 50 kB in debt
  EXPECT_FALSE(b.open(t0));
  auto wait = b.until_open(t0);
  EXPECT_NEAR(std::chrono::duration<double>(wait).count(), 0.070, 0.001);  // 50k + 20k at 1 MB/s
  EXPECT_FALSE(b.open(t0 + 60ms));  // tokens 10 kB: above zero but below the resume level
  EXPECT_TRUE(b.open(t0 + wait));
  EXPECT_EQ(b.until_open(t0 + wait), Clock::duration::zero());
}

TEST(TokenBucketTest, AnIdlePeriodBuysNoMoreThanTheBurst) {
  TokenBucket b(1000 * 1000, t0);
  EXPECT_NEAR(b.tokens(t0 + 60s), 100000, 1);
}

TEST(RateLimiterTest, TotalLimitSharedByEveryServer) {
  const double rate = 1024 * 1024;
  RateLimiter l(rate, 0, t0);
  EXPECT_TRUE(l.limited());
  // Three servers, each delivering 16 KiB pieces whenever allowed, 1 ms loop, 10 s.
  double taken = 0;
  for (auto now = t0; now < t0 + 10s; now += 1ms)
    for (std::size_t s = 0; s < 3; ++s)
      if (l.may_receive(s, now)) {
        l.received(s, 16 * 1024, now);
        taken += 16 * 1024;
      }
  EXPECT_NEAR(taken, rate * 10, rate * 10 * 0.02);
}

TEST(RateLimiterTest, PerServerLimitEachServerAndTheTotalOnTop) {
  const double per = 1024 * 1024;
  RateLimiter l(0, per, t0);
  double by[3] = {0, 0, 0};
  for (auto now = t0; now < t0 + 10s; now += 1ms)
    for (std::size_t s = 0; s < 3; ++s)
      if (l.may_receive(s, now)) {
        l.received(s, 16 * 1024, now);
        by[s] += 16 * 1024;
      }
  for (double b : by) EXPECT_NEAR(b, per * 10, per * 10 * 0.02);
  // Both: the total (1.5 MiB/s) is below the sum of the per-server limits (3 MiB/s).
  RateLimiter both(1.5 * per, per, t0);
  double total = 0, first = 0;
  for (auto now = t0; now < t0 + 10s; now += 1ms)
    for (std::size_t s = 0; s < 3; ++s)
      if (both.may_receive(s, now)) {
        both.received(s, 16 * 1024, now);
        total += 16 * 1024;
        if (s == 0) first += 16 * 1024;
      }
  EXPECT_NEAR(total, 1.5 * per * 10, 1.5 * per * 10 * 0.02);
  EXPECT_LE(first, per * 10 * 1.02);
}

TEST(RateLimiterTest, UntilOpenIsTheLaterOfTheTwoBuckets) {
  RateLimiter l(1000 * 1000, 100 * 1000, t0);  // burst: 100 kB total, 10 kB per server
  EXPECT_TRUE(l.may_receive(1, t0));
  l.received(1, 30000, t0);  // server 1: 20 kB in debt -> 0.22 s until its 2 kB resume level
  EXPECT_FALSE(l.may_receive(1, t0));
  EXPECT_TRUE(l.may_receive(0, t0));  // the total still has 70 kB
  EXPECT_NEAR(std::chrono::duration<double>(l.until_open(1, t0)).count(), 0.22, 0.001);
  EXPECT_EQ(l.until_open(0, t0), Clock::duration::zero());
  EXPECT_TRUE(l.may_receive(1, t0 + l.until_open(1, t0)));
}

TEST(RateLimiterTest, ReadSizeAndShare) {
  EXPECT_EQ(RateLimiter(0, 0, t0).read_size(512 * 1024), 512 * 1024);
  EXPECT_FALSE(RateLimiter(0, 0, t0).limited());
  EXPECT_EQ(RateLimiter(20.0 * 1024 * 1024, 0, t0).read_size(1), 512 * 1024);
  EXPECT_EQ(RateLimiter(512 * 1024, 0, t0).read_size(1), 16 * 1024);
  EXPECT_EQ(RateLimiter(0, 512 * 1024, t0).read_size(1), 16 * 1024);
  EXPECT_EQ(RateLimiter(1024, 0, t0).read_size(1), 1024);
  EXPECT_EQ(RateLimiter(0, 0, t0).share(16, 4), 0.0);
  EXPECT_EQ(RateLimiter(1600, 0, t0).share(16, 4), 100.0);
  EXPECT_EQ(RateLimiter(1600, 200, t0).share(16, 4), 50.0);
}

TEST(RateLimiterTest, ServersAreKnownByKeyAcrossDownloads) {
  RateLimiter l(0, 1000 * 1000, t0);
  std::size_t a = l.server_slot("http://127.0.0.1:1");
  std::size_t b = l.server_slot("http://127.0.0.1:2");
  EXPECT_NE(a, b);
  EXPECT_EQ(l.server_slot("http://127.0.0.1:1"), a);  // a second download finds the same bucket
  l.received(a, 200000, t0);
  EXPECT_FALSE(l.may_receive(a, t0));
  EXPECT_TRUE(l.may_receive(b, t0));
}

TEST(RateLimiterTest, ThreadsSharingOneLimiterTogetherKeepTheRate) {
  // Two downloads on their own threads (real clock, 0.5 s): together at most the rate plus the
  // burst and one piece each (a limiter without its lock would lose updates and let more through).
  const double rate = 4.0 * 1024 * 1024;
  RateLimiter l(rate, 0);
  auto pump = [&](double& mine) {
    auto end = Clock::now() + 500ms;
    while (Clock::now() < end) {
      auto now = Clock::now();
      if (l.may_receive(0, now)) {
        l.received(0, 4096, now);
        mine += 4096;
      } else {
        std::this_thread::sleep_for(std::chrono::duration_cast<std::chrono::microseconds>(
            std::min<Clock::duration>(l.until_open(0, now), 5ms)));
      }
    }
  };
  double first = 0, second = 0;
  std::thread one(pump, std::ref(first)), two(pump, std::ref(second));
  one.join();
  two.join();
  EXPECT_LE(first + second, rate * 0.5 + rate * 0.1 + 2 * 4096);
  EXPECT_GT(first, 0);
  EXPECT_GT(second, 0);
}
