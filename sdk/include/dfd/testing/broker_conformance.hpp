// dfd SDK testing: the conformance suite every broker plugin passes, whatever carries the events
// (header-only, GoogleTest).
//
// Use it from ONE test translation unit (the TEST_P definitions live in this header):
//
//   #include "dfd/testing/broker_conformance.hpp"
//
//   class MySubject : public dfd::conformance::BrokerSubject { ... };  // a started instance
//   INSTANTIATE_TEST_SUITE_P(Mine, BrokerConformance,
//       ::testing::Values(dfd::conformance::BrokerCase{"mine", [] { return make_subject(); }}),
//       dfd::conformance::BrokerCaseName());
//
// The factory returns a started plugin instance, isolated from other tests (its own exchange or
// queue where that applies); it is called once per test and the subject is destroyed after it.
// dfd-plugin-check runs this suite against an installed plugin (docs/plugins.md).
//
// What is checked (dfd/broker.hpp): a published event reaches a matching subscription with its
// key and body and the plugin reports healthy; topic patterns ('*' one segment, '#' any) select
// the handler and nothing else; one subscription sees publish order (200 events); a handler error
// means redelivery; a subscription made after start takes effect, and an event published with no
// binding is not delivered to a later one; bad arguments are kInvalidArgument; stop() returns
// within a second while a handler keeps failing.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "dfd/broker.hpp"
#include "dfd/testing/event_sink.hpp"

namespace dfd::conformance {

// One started broker instance under test.
class BrokerSubject {
 public:
  virtual ~BrokerSubject() = default;
  // The started instance; valid for the subject's lifetime.
  virtual Broker& broker() = 0;
  // Calls the instance's Plugin::stop() (once; later calls and the destructor do not stop again).
  virtual void stop() = 0;
};

using BrokerSubjectFactory = std::function<std::unique_ptr<BrokerSubject>()>;

struct BrokerCase {
  std::string name;  // [A-Za-z0-9_] only: used in the test name
  BrokerSubjectFactory make;
};

inline void PrintTo(const BrokerCase& c, std::ostream* os) {
  *os << c.name;
}

// Name generator for INSTANTIATE_TEST_SUITE_P.
struct BrokerCaseName {
  std::string operator()(const ::testing::TestParamInfo<BrokerCase>& info) const {
    return info.param.name;
  }
};

}  // namespace dfd::conformance

// In the global namespace so that INSTANTIATE_TEST_SUITE_P(Prefix, BrokerConformance, ...) works
// without qualification.
class BrokerConformance : public ::testing::TestWithParam<dfd::conformance::BrokerCase> {
 protected:
  void SetUp() override {
    subject_ = GetParam().make();
    ASSERT_NE(subject_, nullptr) << "the factory made no subject";
    broker = &subject_->broker();
  }
  void TearDown() override { subject_.reset(); }

  dfd::Broker* broker = nullptr;
  std::unique_ptr<dfd::conformance::BrokerSubject> subject_;
};

TEST_P(BrokerConformance, PublishedEventReachesTheHandler) {
  using namespace std::chrono_literals;
  dfd::conformance::EventSink sink;
  ASSERT_TRUE(broker->subscribe({"token.*"}, sink.handler()).ok());
  EXPECT_TRUE(broker->connected());
  dfd::Status st = broker->publish("token.issued", R"({"v":1})", 2s);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_TRUE(sink.wait_for(1, 5s)) << "the event did not arrive within 5 s";
  EXPECT_EQ(sink.events()[0].first, "token.issued");
  EXPECT_EQ(sink.events()[0].second, R"({"v":1})");
  dfd::Health h = broker->health();
  EXPECT_TRUE(h.healthy) << h.detail;
}

TEST_P(BrokerConformance, TopicPatternsSelectTheHandler) {
  using namespace std::chrono_literals;
  dfd::conformance::EventSink tokens, files;
  ASSERT_TRUE(broker->subscribe({"token.*"}, tokens.handler()).ok());
  ASSERT_TRUE(broker->subscribe({"file.#", "server.heartbeat"}, files.handler()).ok());
  for (const char* k : {"token.issued", "token.a.b", "file.available", "file", "server.heartbeat",
                        "server.other", "token.revoked", "file.x.y"}) {
    dfd::Status st = broker->publish(k, k, 2s);
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
  using namespace std::chrono_literals;
  dfd::conformance::EventSink sink;
  ASSERT_TRUE(broker->subscribe({"token.*"}, sink.handler()).ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(broker->publish("token.issued", std::to_string(i), 2s).ok());
  }
  ASSERT_TRUE(sink.wait_for(200, 10s));
  auto ev = sink.events();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ev[i].second, std::to_string(i));
}

TEST_P(BrokerConformance, HandlerErrorMeansRedelivery) {
  using namespace std::chrono_literals;
  dfd::conformance::EventSink sink;
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
  using namespace std::chrono_literals;
  dfd::conformance::EventSink one, two;
  ASSERT_TRUE(broker->subscribe({"a.one"}, one.handler()).ok());
  ASSERT_TRUE(broker->publish("a.two", "before", 2s).ok());  // nobody subscribed: not delivered
  ASSERT_TRUE(broker->subscribe({"a.two"}, two.handler()).ok());
  ASSERT_TRUE(broker->publish("a.two", "after", 2s).ok());
  ASSERT_TRUE(two.wait_for_body("after", 5s));
  EXPECT_EQ(two.events().size(), 1u);
}

TEST_P(BrokerConformance, RefusesBadArguments) {
  using namespace std::chrono_literals;
  dfd::conformance::EventSink sink;
  EXPECT_EQ(broker->subscribe({}, sink.handler()).code(), dfd::Code::kInvalidArgument);
  EXPECT_EQ(broker->subscribe({"a..b"}, sink.handler()).code(), dfd::Code::kInvalidArgument);
  EXPECT_EQ(broker->subscribe({"a"}, dfd::EventHandler{}).code(), dfd::Code::kInvalidArgument);
  EXPECT_EQ(broker->publish("", "{}", 1s).code(), dfd::Code::kInvalidArgument);
}

TEST_P(BrokerConformance, StopJoinsPromptlyWithAHandlerThatKeepsFailing) {
  using namespace std::chrono_literals;
  dfd::conformance::EventSink sink;
  ASSERT_TRUE(broker->subscribe({"#"}, sink.handler([](auto&, auto&) { return true; })).ok());
  ASSERT_TRUE(broker->publish("x.y", "1", 2s).ok());
  ASSERT_TRUE(sink.wait_for_calls(1, 5s));
  auto t0 = std::chrono::steady_clock::now();
  subject_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "stop() took a second or more";
}
