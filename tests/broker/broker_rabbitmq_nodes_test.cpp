// broker-rabbitmq's `urls` and `queue_type` against this binary's one real RabbitMQ
// (rabbitmq_fixture.hpp): a dead node listed first is skipped, the node in use shows in health
// and metrics, and a queue that exists with the other type is a clear error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "event_sink.hpp"
#include "harness.hpp"
#include "rabbitmq_fixture.hpp"

namespace dfd::test {
namespace {
using namespace std::chrono_literals;
using Urls = std::vector<std::string>;

// A loopback URL nothing listens on (a "node" that is down).
std::string dead_url() {
  return "amqp://guest:guest@127.0.0.1:" + std::to_string(free_port()) + "/";
}

// config() with `urls` instead of its `url`.
ConfigMap urls_config(Urls urls) {
  ConfigMap c = config({{"urls", std::move(urls)}});
  c.erase("url");
  return c;
}

TEST(RabbitBrokerNodes, ADeadNodeListedFirstIsSkippedAndTheNodeInUseIsReported) {
  MAKE_OR_FAIL(a, urls_config({dead_url(), RabbitEnv::url}));
  ASSERT_TRUE(eventually([&] { return a.broker->connected(); }, 5s));
  EventSink sink;
  ASSERT_TRUE(a.broker->subscribe({"token.*"}, sink.handler()).ok());
  ASSERT_TRUE(a.broker->publish("token.issued", R"({"v":1})", 2s).ok());
  ASSERT_TRUE(sink.wait_for(1, 5s));
  EXPECT_EQ(a.host->metric("dfd_broker_publisher_node"), 2);
  EXPECT_TRUE(eventually([&] { return a.host->metric("dfd_broker_consumer_node") == 2; }, 2s));
  Health h = a.plugin.get()->health();
  EXPECT_TRUE(h.healthy) << h.detail;
  EXPECT_NE(h.detail.find("connected to amqp://guest:***@127.0.0.1:" +
                          std::to_string(RabbitEnv::port) + "/ (node 2 of 2)"),
            std::string::npos)
      << h.detail;
  // Two urls: a quorum queue by default.
  EXPECT_NE(h.detail.find("consuming queue 'q-" + test_name() + "' (quorum, 1 binding keys) on "),
            std::string::npos)
      << h.detail;
  auto r = rabbitmqctl({"list_queues", "name", "type"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("q-" + test_name() + "\tquorum"), std::string::npos) << r.output;
  a.plugin.stop();
  EXPECT_EQ(a.host->metric("dfd_broker_publisher_node"), 0);
}

TEST(RabbitBrokerNodes, EveryNodeDownFailsPublishesAndSaysSo) {
  auto made = make(urls_config({dead_url(), dead_url()}));
  ASSERT_TRUE(made.ok()) << made.status().to_string();  // start() does not wait for RabbitMQ
  Instance a = std::move(*made);
  Status st = a.broker->publish("token.issued", R"({"v":1})", 500ms);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.to_string();
  Health h = a.plugin.get()->health();
  EXPECT_FALSE(h.healthy);
  EXPECT_NE(h.detail.find("not connected to amqp://guest:***@127.0.0.1:"), std::string::npos)
      << h.detail;
  EXPECT_NE(h.detail.find(" of 2)"), std::string::npos) << h.detail;
}

TEST(RabbitBrokerNodes, AQueueOfTheOtherTypeIsAClearError) {
  const std::string queue = "q-" + test_name();
  {
    MAKE_OR_FAIL(classic, config({{"queue_type", std::string("classic")}}));
    EventSink sink;
    ASSERT_TRUE(classic.broker->subscribe({"token.*"}, sink.handler()).ok());
  }
  MAKE_OR_FAIL(quorum, config({{"queue_type", std::string("quorum")}}));
  EventSink sink;
  Status st = quorum.broker->subscribe({"token.*"}, sink.handler());
  EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.to_string();
  EXPECT_NE(st.message().find("queue '" + queue + "' exists as a classic queue"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("queue_type = \"quorum\""), std::string::npos) << st.message();
  Health h = quorum.plugin.get()->health();
  EXPECT_FALSE(h.healthy);
  EXPECT_NE(h.detail.find("queue '" + queue + "' exists as a classic queue"), std::string::npos)
      << h.detail;
  EXPECT_EQ(count_of(quorum.host->log_text(), "exists as a classic queue"), 1)
      << quorum.host->log_text();
}

}  // namespace
}  // namespace dfd::test
