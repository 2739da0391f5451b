// broker-local, loaded from libdfd-broker-local.so through the fake host.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "broker_case.hpp"
#include "event_sink.hpp"
#include "fake_host.hpp"

namespace dfd::test {
namespace {
using namespace std::chrono_literals;

INSTANTIATE_TEST_SUITE_P(
    Local, BrokerConformance,
    ::testing::Values(broker_case("local",
                                  [] {
                                    BrokerInstance b;
                                    b.host = std::make_unique<FakeHost>(
                                        std::map<std::string, ConfigValue>{}, "broker-local");
                                    auto p = load_plugin("broker-local", *b.host);
                                    if (!p.ok()) {
                                      return Result<BrokerInstance>(p.status());
                                    }
                                    b.plugin = std::move(*p);
                                    b.broker = b.plugin.as<Broker>();
                                    return Result<BrokerInstance>(std::move(b));
                                  })),
    conformance::BrokerCaseName());

struct LocalBrokerTest : ::testing::Test {
  FakeHost host{{}, "broker-local"};
  LoadedPlugin plugin;
  Broker* broker = nullptr;
  void SetUp() override {
    auto p = load_plugin("broker-local", host);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    plugin = std::move(*p);
    ASSERT_EQ(plugin.descriptor()->kind, PluginKind::kBroker);
    broker = plugin.as<Broker>();
  }
};

TEST_F(LocalBrokerTest, DeliversInPublishOrder) {
  EventSink sink;
  ASSERT_TRUE(broker->subscribe({"token.*"}, sink.handler()).ok());
  EXPECT_TRUE(broker->connected());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(broker->publish("token.issued", std::to_string(i), 100ms).ok());
  }
  ASSERT_TRUE(sink.wait_for(1000, 5s));
  auto ev = sink.events();
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(ev[i].second, std::to_string(i));
  EXPECT_EQ(host.metric("dfd_broker_published_total"), 1000);
  EXPECT_EQ(host.metric("dfd_broker_consumed_total"), 1000);
  EXPECT_TRUE(plugin.get()->health().healthy);
}

TEST_F(LocalBrokerTest, RetriesAFailingHandlerAndKeepsOrder) {
  EventSink sink;
  std::map<std::string, int> failures_left{{"b", 2}};
  ASSERT_TRUE(
      broker
          ->subscribe({"token.*"}, sink.handler([&](const std::string&, const std::string& b) {
            auto it = failures_left.find(b);  // handler thread only
            if (it == failures_left.end() || it->second == 0) return false;
            --it->second;
            return true;
          }))
          .ok());
  for (const char* b : {"a", "b", "c"}) ASSERT_TRUE(broker->publish("token.issued", b, 100ms).ok());
  ASSERT_TRUE(sink.wait_for(3, 5s));
  auto ev = sink.events();
  EXPECT_EQ(ev[0].second, "a");
  EXPECT_EQ(ev[1].second, "b");
  EXPECT_EQ(ev[2].second, "c");
  EXPECT_EQ(sink.calls(), 5);  // "b" failed twice, then was retried
}

// The EventHandler contract: kInvalidArgument = malformed for good; dropped at once, counted,
// and the events behind it are not held up by retries.
TEST_F(LocalBrokerTest, AnEventTheHandlerCallsMalformedIsDroppedOnce) {
  std::atomic<int> bad_calls{0};
  EventSink sink;
  EventHandler record = sink.handler();
  ASSERT_TRUE(broker
                  ->subscribe({"token.*"},
                              [&](std::string_view k, std::string_view b) -> Status {
                                if (b == "malformed") {
                                  ++bad_calls;
                                  return Status::InvalidArgument("bad token_hash");
                                }
                                return record(k, b);
                              })
                  .ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(broker->publish("token.issued", "malformed", 100ms).ok());
  ASSERT_TRUE(broker->publish("token.issued", "good", 100ms).ok());
  ASSERT_TRUE(sink.wait_for_body("good", 5s));
  EXPECT_EQ(bad_calls.load(), 3);
  EXPECT_EQ(host.metric("dfd_broker_events_rejected_total", {{"reason", "invalid"}}), 3);
  EXPECT_NE(host.log_text().find("dropped a malformed 'token.issued' event: bad token_hash"),
            std::string::npos)
      << host.log_text();
}

TEST_F(LocalBrokerTest, PublishWithoutSubscribersIsOk) {
  EXPECT_TRUE(broker->publish("token.issued", "{}", 10ms).ok());
}

TEST(LocalBrokerConfig, RefusesUnknownKeys) {
  FakeHost host{{{"url", std::string("amqp://x")}}, "broker-local"};
  auto p = load_plugin("broker-local", host);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("url"), std::string::npos);
}

}  // namespace
}  // namespace dfd::test
