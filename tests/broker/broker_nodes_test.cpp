// broker-rabbitmq's node list and queue type (pure logic, no broker): the order a connection
// tries the nodes of `urls` in, and the config errors of url/urls and queue_type.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker_nodes.hpp"
#include "fake_host.hpp"
#include "queue_type.hpp"

namespace {
using dfd::Code;
using dfd::Status;
using dfd::broker_rabbitmq::load_broker_urls;
using dfd::broker_rabbitmq::load_queue_type;
using dfd::broker_rabbitmq::mismatch_error;
using dfd::broker_rabbitmq::NodeRotation;
using dfd::broker_rabbitmq::queue_declare_arguments;
using dfd::broker_rabbitmq::QueueType;
using dfd::test::ConfigValue;
using dfd::test::FakeHost;
using Urls = std::vector<std::string>;

const std::string kA = "amqp://fs:s3cret-A@127.0.0.1:5001/";
const std::string kB = "amqp://fs:s3cret-B@127.0.0.1:5002/";
const std::string kC = "amqp://fs:s3cret-C@127.0.0.1:5003/";

TEST(NodeRotation, MovesToTheNextNodeOnEveryFailureAndWraps) {
  NodeRotation r(3);
  EXPECT_EQ(r.current(), 0u);
  EXPECT_FALSE(r.failed());  // node 1 down: node 2 next, at once
  EXPECT_EQ(r.current(), 1u);
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.current(), 2u);
  EXPECT_TRUE(r.failed());  // every node failed once: a full round, back off
  EXPECT_EQ(r.current(), 0u);
  EXPECT_FALSE(r.failed());  // a new round
  EXPECT_EQ(r.current(), 1u);
}

TEST(NodeRotation, AConnectionStartsANewRoundAndALostOneMovesOn) {
  NodeRotation r(3);
  EXPECT_FALSE(r.failed());  // node 1 refused
  r.connected();             // node 2 is up
  EXPECT_EQ(r.current(), 1u);
  // Node 2's connection is lost: node 3 next; nodes 3 and 1 failing too make the round.
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.current(), 2u);
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.current(), 0u);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.current(), 1u);
}

TEST(NodeRotation, OneNodeBacksOffOnEveryFailureAsBefore) {
  NodeRotation r(1);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.current(), 0u);
  r.connected();
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(NodeRotation(0).size(), 1u);
}

// The config error of `cfg` (load_broker_urls), which must be one.
std::string urls_error(std::map<std::string, ConfigValue> cfg) {
  FakeHost host(std::move(cfg), "broker-rabbitmq");
  auto r = load_broker_urls(host.config());
  EXPECT_FALSE(r.ok());
  if (r.ok()) return {};
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

TEST(BrokerUrls, OneUrlOrAListInOrder) {
  FakeHost one({{"url", kA}}, "broker-rabbitmq");
  auto a = load_broker_urls(one.config());
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ(a->front().port, 5001);

  FakeHost three({{"urls", Urls{kB, kA, kC}}}, "broker-rabbitmq");
  auto b = load_broker_urls(three.config());
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  ASSERT_EQ(b->size(), 3u);
  EXPECT_EQ((*b)[0].port, 5002);
  EXPECT_EQ((*b)[1].port, 5001);
  EXPECT_EQ((*b)[2].port, 5003);
  EXPECT_EQ((*b)[2].password, "s3cret-C");
  EXPECT_EQ((*b)[2].display, "amqp://fs:***@127.0.0.1:5003/");
}

TEST(BrokerUrls, AnEntryMayListSeveralNodesSeparatedByCommas) {
  // As `urls = ["${DFD_AMQP_URLS}"]` expands with DFD_AMQP_URLS="A, B,C".
  FakeHost host({{"urls", Urls{kA + ", " + kB + "," + kC}}}, "broker-rabbitmq");
  auto r = load_broker_urls(host.config());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].port, 5001);
  EXPECT_EQ((*r)[1].port, 5002);
  EXPECT_EQ((*r)[2].port, 5003);
  EXPECT_NE(urls_error({{"urls", Urls{" , "}}}).find("empty"), std::string::npos);
}

TEST(BrokerUrls, ConfigErrorsNameTheKeyAndNeverAPassword) {
  std::string e = urls_error({{"url", kA}, {"urls", Urls{kB}}});
  EXPECT_NE(e.find("urls"), std::string::npos) << e;
  EXPECT_NE(e.find("not both"), std::string::npos) << e;

  e = urls_error({});
  EXPECT_NE(e.find("url"), std::string::npos) << e;
  EXPECT_NE(e.find("required"), std::string::npos) << e;

  e = urls_error({{"urls", Urls{}}});
  EXPECT_NE(e.find("urls"), std::string::npos) << e;
  EXPECT_NE(e.find("empty"), std::string::npos) << e;

  e = urls_error({{"urls", Urls{kA, "amqps://fs:s3cret-S@127.0.0.1:5004/"}}});
  EXPECT_NE(e.find("entry 2"), std::string::npos) << e;
  EXPECT_NE(e.find("mixes amqp:// and amqps://"), std::string::npos) << e;

  e = urls_error({{"urls", Urls{kA, kB, "amqp://fs:other@127.0.0.1:5001/"}}});
  EXPECT_NE(e.find("entry 3"), std::string::npos) << e;
  EXPECT_NE(e.find("listed twice"), std::string::npos) << e;

  e = urls_error({{"urls", Urls{kA, "http://fs:s3cret-H@127.0.0.1:80/"}}});
  EXPECT_NE(e.find("entry 2"), std::string::npos) << e;
  EXPECT_NE(e.find("expected amqp://"), std::string::npos) << e;

  e = urls_error({{"urls", std::string(kA)}});  // a string where a list belongs
  EXPECT_NE(e.find("urls"), std::string::npos) << e;

  for (const auto& cfg : std::vector<std::map<std::string, ConfigValue>>{
           {{"urls", Urls{kA, "amqps://fs:s3cret-S@127.0.0.1:5004/"}}},
           {{"urls", Urls{kA, "http://fs:s3cret-H@127.0.0.1:80/"}}},
           {{"urls", Urls{kA, kB, "amqp://fs:s3cret-D@127.0.0.1:5001/"}}}}) {
    e = urls_error(cfg);
    EXPECT_EQ(e.find("s3cret"), std::string::npos) << e;
  }
}

TEST(QueueType, DefaultsToQuorumForAClusterAndClassicForOneNode) {
  FakeHost none({}, "broker-rabbitmq");
  EXPECT_EQ(*load_queue_type(none.config(), false), QueueType::kClassic);
  EXPECT_EQ(*load_queue_type(none.config(), true), QueueType::kQuorum);
  FakeHost classic({{"queue_type", std::string("classic")}}, "broker-rabbitmq");
  EXPECT_EQ(*load_queue_type(classic.config(), true), QueueType::kClassic);
  FakeHost quorum({{"queue_type", std::string("quorum")}}, "broker-rabbitmq");
  EXPECT_EQ(*load_queue_type(quorum.config(), false), QueueType::kQuorum);
}

TEST(QueueType, AnotherValueIsAConfigError) {
  for (const ConfigValue& v : {ConfigValue(std::string("mirrored")), ConfigValue(std::int64_t{1}),
                               ConfigValue(std::string("Quorum"))}) {
    FakeHost host({{"queue_type", v}}, "broker-rabbitmq");
    auto r = load_queue_type(host.config(), true);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("queue_type"), std::string::npos) << r.status().message();
  }
}

TEST(QueueType, DeclareArguments) {
  EXPECT_EQ(queue_declare_arguments(QueueType::kClassic).num_entries, 0);
  auto t = queue_declare_arguments(QueueType::kQuorum);
  ASSERT_EQ(t.num_entries, 1);
  EXPECT_EQ(std::string(static_cast<const char*>(t.entries[0].key.bytes), t.entries[0].key.len),
            "x-queue-type");
  EXPECT_EQ(t.entries[0].value.kind, AMQP_FIELD_KIND_UTF8);
  EXPECT_EQ(std::string(static_cast<const char*>(t.entries[0].value.value.bytes.bytes),
                        t.entries[0].value.value.bytes.len),
            "quorum");
}

TEST(QueueType, AnExistingQueueOfTheOtherTypeNamesTheQueueAndTheOption) {
  const Status refusal = Status::FailedPrecondition(
      "declare durable quorum queue 'fs-a': server channel error 406, message: "
      "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'fs-a' in vhost '/': "
      "received the value 'quorum' of type 'longstr' but current is none");
  Status st = mismatch_error(refusal, "fs-a", QueueType::kQuorum);
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("queue 'fs-a' exists as a classic queue"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("queue_type = \"quorum\""), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("queue_type = \"classic\""), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("delete_queue fs-a"), std::string::npos) << st.message();

  // Other refusals pass unchanged.
  const Status other =
      Status::FailedPrecondition("406 PRECONDITION_FAILED - inequivalent arg 'durable'");
  EXPECT_EQ(mismatch_error(other, "fs-a", QueueType::kQuorum).message(), other.message());
  const Status down = Status::Unavailable("x-queue-type: connection lost");
  EXPECT_EQ(mismatch_error(down, "fs-a", QueueType::kQuorum).code(), Code::kUnavailable);
}

}  // namespace
