// The token announcer (plugins/info-core/token_announcer.hpp) with a publish function that
// records what it is given: grouping, the single form for one record, arrivals and deadlines.
#include "token_announcer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dfd/events.hpp"

namespace dfd::info {
namespace {
using namespace std::chrono_literals;

struct Recorder {
  std::mutex mu;
  std::vector<std::string> bodies;
  std::atomic<int> delay_ms{0};
  std::atomic<int> started{0};  // publishes begun
  TokenAnnouncer::Publish fn() {
    return [this](std::string_view body, std::chrono::milliseconds) {
      ++started;
      if (delay_ms.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      std::lock_guard<std::mutex> g(mu);
      bodies.emplace_back(body);
      return Status::Ok();
    };
  }
  std::vector<std::string> sent() {
    std::lock_guard<std::mutex> g(mu);
    return bodies;
  }
};

DownloadTokenRecord rec(int i) {
  // Well-formed hex: the event decoders refuse anything else.
  return DownloadTokenRecord{sha256_hex("hash-" + std::to_string(i)), sha256_hex("scope"), i,
                             TimePoint(std::chrono::seconds(1800000000))};
}

TEST(TokenAnnouncer, ALoneRecordIsPublishedAtOnceInTheSingleForm) {
  Recorder r;
  // A linger of a minute must not apply (nobody is on the way); the bound is half of it, so a busy
  // machine cannot make this fail.
  TokenAnnouncer a(r.fn(), 256, 1, 60s);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(a.announce(rec(1), 60000ms).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  auto sent = r.sent();
  ASSERT_EQ(sent.size(), 1u);
  auto single = events::decode_token_issued(sent[0]);
  ASSERT_TRUE(single.ok()) << sent[0];
  EXPECT_EQ(single->token_hash, sha256_hex("hash-1"));
}

TEST(TokenAnnouncer, ARecordOnItsWayJoinsTheWaitingOne) {
  Recorder r;
  TokenAnnouncer a(r.fn(), 256, 1, 5s);
  TokenAnnouncer::Arrival on_the_way(a);
  std::atomic<bool> first_done{false};
  std::thread t([&] {
    EXPECT_TRUE(a.announce(rec(1), 10000ms).ok());
    first_done = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(first_done.load());  // waiting for the record on its way
  EXPECT_TRUE(r.sent().empty());
  EXPECT_TRUE(a.announce(rec(2), 10000ms, &on_the_way).ok());
  t.join();
  auto sent = r.sent();
  ASSERT_EQ(sent.size(), 1u);
  auto batch = events::decode_token_issued_batch(sent[0]);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].token_hash, sha256_hex("hash-1"));
  EXPECT_EQ((*batch)[1].token_hash, sha256_hex("hash-2"));
  EXPECT_EQ(a.events_published(), 1u);
  EXPECT_EQ(a.records_published(), 2u);
}

TEST(TokenAnnouncer, AnArrivalThatNeverComesReleasesTheWaitingOne) {
  Recorder r;
  TokenAnnouncer a(r.fn(), 256, 1, 60s);
  auto on_the_way = std::make_unique<TokenAnnouncer::Arrival>(a);
  auto t0 = std::chrono::steady_clock::now();
  std::thread t([&] { EXPECT_TRUE(a.announce(rec(1), 60000ms).ok()); });
  std::this_thread::sleep_for(50ms);
  on_the_way.reset();  // e.g. its token could not be issued
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);  // not the minute's linger
  EXPECT_EQ(r.sent().size(), 1u);
}

TEST(TokenAnnouncer, TheLingerIsBounded) {
  Recorder r;
  TokenAnnouncer a(r.fn(), 256, 1, 200ms);
  TokenAnnouncer::Arrival on_the_way(a);  // never announced while the first waits
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(a.announce(rec(1), 60000ms).ok());
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 195ms);
  EXPECT_LT(took, 30s);  // the linger, not the minute's deadline
}

TEST(TokenAnnouncer, RecordsArrivingDuringAPublishFormTheNextBatchWithinTheCap) {
  Recorder r;
  r.delay_ms = 200;  // long enough for every thread to arrive during the first publish
  TokenAnnouncer a(r.fn(), 4, 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 13; ++i) {
    threads.emplace_back([&a, i] { EXPECT_TRUE(a.announce(rec(i), 10000ms).ok()); });
  }
  for (auto& t : threads) t.join();
  std::size_t total = 0;
  auto sent = r.sent();
  for (auto& b : sent) {
    auto batch = events::decode_token_issued_batch(b);
    ASSERT_TRUE(batch.ok());
    EXPECT_LE(batch->size(), 4u);
    total += batch->size();
  }
  EXPECT_EQ(total, 13u);
  EXPECT_LT(sent.size(), 13u);
  EXPECT_GE(sent.size(), 4u);  // 13 records, at most 4 per event
}

TEST(TokenAnnouncer, AWaitingRecordIsWithdrawnAtItsDeadline) {
  Recorder r;
  r.delay_ms = 4000;
  TokenAnnouncer a(r.fn(), 256, 1);
  std::thread t([&] { EXPECT_TRUE(a.announce(rec(1), 60000ms).ok()); });
  while (r.started.load() == 0) std::this_thread::sleep_for(1ms);  // rec(1) is being published
  auto t0 = std::chrono::steady_clock::now();
  Status st = a.announce(rec(2), 50ms);
  EXPECT_EQ(st.code(), Code::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);  // not after rec(1)'s 4 s publish
  t.join();
  auto sent = r.sent();
  ASSERT_EQ(sent.size(), 1u);  // rec(2) was never published
  EXPECT_EQ(sent[0].find(sha256_hex("hash-2")), std::string::npos);
}

}  // namespace
}  // namespace dfd::info
