// The Broker conformance suite: what every broker plugin must do, whatever carries the events.
// A test binary includes this header once and instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Local, BrokerConformance,
//                            ::testing::Values(BrokerFactory{"broker-local", &make_local}));
//
// The factory returns a started plugin instance, isolated from other tests (its own exchange/queue
// where that applies).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "broker_instance.hpp"
#include "event_sink.hpp"
#include "fake_host.hpp"

namespace dfd::test {

class BrokerConformance : public ::testing::TestWithParam<BrokerFactory> {
 protected:
  void SetUp() override {
    auto r = GetParam().make();
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    inst_ = std::move(*r);
    broker = inst_.broker;
    ASSERT_EQ(inst_.plugin.descriptor()->kind, PluginKind::kBroker);
  }
  Broker* broker = nullptr;
  BrokerInstance inst_;
};

namespace conformance_detail {
using namespace std::chrono_literals;
}

TEST_P(BrokerConformance, PublishedEventReachesTheHandler) {
  using namespace conformance_detail;
  EventSink sink;
  ASSERT_TRUE(broker->subscribe({"token.*"}, sink.handler()).ok());
  EXPECT_TRUE(broker->connected());
  Status st = broker->publish("token.issued", R"({"v":1})", 2s);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_TRUE(sink.wait_for(1, 5s));
  EXPECT_EQ(sink.events()[0].first, "token.issued");
  EXPECT_EQ(sink.events()[0].second, R"({"v":1})");
  EXPECT_TRUE(inst_.plugin.get()->health().healthy) << inst_.plugin.get()->health().detail;
}

TEST_P(BrokerConformance, TopicPatternsSelectTheHandler) {
  using namespace conformance_detail;
  EventSink tokens, files;
  ASSERT_TRUE(broker->subscribe({"token.*"}, tokens.handler()).ok());
  ASSERT_TRUE(broker->subscribe({"file.#", "server.heartbeat"}, files.handler()).ok());
  for (const char* k : {"token.issued", "token.a.b", "file.available", "file", "server.heartbeat",
                        "server.other", "token.revoked", "file.x.y"}) {
    Status st = broker->publish(k, k, 2s);
    ASSERT_TRUE(st.ok()) << k << ": " << st.to_string();
  }
  ASSERT_TRUE(broker->publish("file.zzz", "end", 2s).ok());
  ASSERT_TRUE(files.wait_for_body("end", 5s));
  ASSERT_TRUE(tokens.wait_for(2, 5s));
  std::this_thread::sleep_for(100ms);  // anything wrongly routed would show up by now
  EXPECT_EQ(tokens.keys(), (std::vector<std::string>{"token.issued", "token.revoked"}));
  EXPECT_EQ(files.keys(), (std::vector<std::string>{"file.available", "file", "server.heartbeat",
                                                    "file.x.y", "file.zzz"}));
}

TEST_P(BrokerConformance, OneSubscriptionSeesPublishOrder) {
  using namespace conformance_detail;
  EventSink sink;
  ASSERT_TRUE(broker->subscribe({"token.*"}, sink.handler()).ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(broker->publish("token.issued", std::to_string(i), 2s).ok());
  }
  ASSERT_TRUE(sink.wait_for(200, 10s));
  auto ev = sink.events();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ev[i].second, std::to_string(i));
}

TEST_P(BrokerConformance, HandlerErrorMeansRedelivery) {
  using namespace conformance_detail;
  EventSink sink;
  std::atomic<int> refusals{2};
  ASSERT_TRUE(
      broker
          ->subscribe({"token.*"}, sink.handler([&](const std::string&, const std::string& b) {
            return b == "flaky" && refusals.fetch_sub(1) > 0;
          }))
          .ok());
  ASSERT_TRUE(broker->publish("token.issued", "flaky", 2s).ok());
  ASSERT_TRUE(sink.wait_for_body("flaky", 10s));
  EXPECT_EQ(sink.calls(), 3);
  EXPECT_EQ(sink.events().size(), 1u);
}

TEST_P(BrokerConformance, SubscribeAfterStartTakesEffect) {
  using namespace conformance_detail;
  EventSink one, two;
  ASSERT_TRUE(broker->subscribe({"a.one"}, one.handler()).ok());
  ASSERT_TRUE(broker->publish("a.two", "before", 2s).ok());  // nobody subscribed: not delivered
  ASSERT_TRUE(broker->subscribe({"a.two"}, two.handler()).ok());
  ASSERT_TRUE(broker->publish("a.two", "after", 2s).ok());
  ASSERT_TRUE(two.wait_for_body("after", 5s));
  EXPECT_EQ(two.events().size(), 1u);
}

TEST_P(BrokerConformance, RefusesBadArguments) {
  using namespace conformance_detail;
  EventSink sink;
  EXPECT_EQ(broker->subscribe({}, sink.handler()).code(), Code::kInvalidArgument);
  EXPECT_EQ(broker->subscribe({"a..b"}, sink.handler()).code(), Code::kInvalidArgument);
  EXPECT_EQ(broker->subscribe({"a"}, EventHandler{}).code(), Code::kInvalidArgument);
  EXPECT_EQ(broker->publish("", "{}", 1s).code(), Code::kInvalidArgument);
}

TEST_P(BrokerConformance, StopJoinsPromptlyWithAHandlerThatKeepsFailing) {
  using namespace conformance_detail;
  EventSink sink;
  ASSERT_TRUE(broker->subscribe({"#"}, sink.handler([](auto&, auto&) { return true; })).ok());
  ASSERT_TRUE(broker->publish("x.y", "1", 2s).ok());
  ASSERT_TRUE(sink.wait_for_calls(1, 5s));
  auto t0 = std::chrono::steady_clock::now();
  inst_.plugin.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

}  // namespace dfd::test
