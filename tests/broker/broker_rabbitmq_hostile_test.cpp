// broker-rabbitmq against a real RabbitMQ under hostile input and careless operators (issue 11:
// #2 malformed events, #3 a deleted queue, #12 passwords with URL delimiters). Part of the
// broker_rabbitmq_test binary: same private broker (rabbitmq_fixture.hpp).
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dfd/events.hpp"
#include "event_sink.hpp"
#include "rabbitmq_fixture.hpp"

namespace dfd::test {
namespace {
using namespace std::chrono_literals;

std::string H(const std::string& x) {
  return sha256_hex(x);
}

std::string token_event(const std::string& seed) {
  return events::encode_token_issued(
      DownloadTokenRecord{H(seed), H("file"), 7, TimePoint(std::chrono::seconds(1800000000))});
}

// "messages messages_unacknowledged" of `queue`, or "" when RabbitMQ has no such queue.
std::string queue_counts(const std::string& queue) {
  auto r = rabbitmqctl(
      {"list_queues", "--no-table-headers", "name", "messages", "messages_unacknowledged"});
  EXPECT_EQ(r.status, 0) << r.output;
  std::istringstream lines(r.output);
  for (std::string name, ready, unacked; lines >> name >> ready >> unacked;) {
    if (name == queue) return ready + " " + unacked;
  }
  return "";
}

// A file server's token handler, as the EventHandler contract asks: a body the decoder refuses
// is kInvalidArgument. Records every call per body and the token hashes learned.
class TokenStoreDouble {
 public:
  EventHandler handler() {
    return [this](std::string_view, std::string_view body) -> Status {
      std::lock_guard<std::mutex> g(mu_);
      ++calls_[std::string(body)];
      auto recs = events::decode_token_issued_batch(body);
      if (!recs.ok()) return recs.status();
      for (const auto& r : *recs) known_.push_back(r.token_hash);
      cv_.notify_all();
      return Status::Ok();
    };
  }
  bool wait_for(const std::string& hash, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(
        lk, timeout, [&] { return std::find(known_.begin(), known_.end(), hash) != known_.end(); });
  }
  int calls(const std::string& body) {
    std::lock_guard<std::mutex> g(mu_);
    return calls_[body];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> calls_;
  std::vector<std::string> known_;
};

// Issue 11 #2: a malformed token.issued used to be requeued forever on every file server.
TEST(RabbitBrokerHostile, MalformedEventsAreRejectedOnceAndRealTokensStillArrive) {
  MAKE_OR_FAIL(fs, config({{"max_body_bytes", std::int64_t{65536}}}));
  TokenStoreDouble store;
  ASSERT_TRUE(fs.broker->subscribe({"token.*"}, store.handler()).ok());
  const std::string secret = "SECRET-IN-A-BODY";
  const std::vector<std::string> garbage = {
      R"({"v":1,"token_hash":"NOT-A-HASH","scope":")" + H("file") +
          R"(","user_id":1,"expires_at":1800000000,"note":")" + secret + "\"}",
      "not json at all " + secret,
      R"({"v":2,"token_hash":")" + H("t") + R"(","note":")" + secret + "\"}",
  };
  const std::string huge = R"({"v":1,"pad":")" + std::string(100000, 'x') + secret + "\"}";
  for (const auto& g : garbage) ASSERT_TRUE(fs.broker->publish("token.issued", g, 2s).ok());
  ASSERT_TRUE(fs.broker->publish("token.issued", huge, 2s).ok());
  auto t0 = RabbitClock::now();
  ASSERT_TRUE(fs.broker->publish("token.issued", token_event("real"), 2s).ok());
  ASSERT_TRUE(store.wait_for(H("real"), 10s)) << fs.host->log_text();
  std::cout << "[ info     ] the real token arrived " << seconds_since(t0) * 1000
            << " ms after its publish, behind 4 malformed events\n";
  // Were the garbage requeued, it would come back before this marker (requeue keeps position).
  ASSERT_TRUE(fs.broker->publish("token.issued", token_event("marker"), 2s).ok());
  ASSERT_TRUE(store.wait_for(H("marker"), 10s));

  for (const auto& g : garbage) EXPECT_EQ(store.calls(g), 1) << g;
  EXPECT_EQ(store.calls(huge), 0) << "an oversized body must not reach a handler";
  const Labels invalid{{"reason", "invalid"}}, too_large{{"reason", "too_large"}};
  EXPECT_EQ(fs.host->metric("dfd_broker_events_rejected_total", invalid), 3);
  EXPECT_EQ(fs.host->metric("dfd_broker_events_rejected_total", too_large), 1);
  EXPECT_TRUE(eventually([&] { return fs.host->metric("dfd_broker_consumed_total") == 2; }, 2s));
  const std::string log = fs.host->log_text();
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
  EXPECT_EQ(count_of(log, "rejected a 'token.issued' delivery"), 4) << log;
  EXPECT_NE(log.find("too_large"), std::string::npos) << log;
  // Nothing left on the broker: neither ready nor unacknowledged.
  const std::string queue = "q-" + test_name();
  EXPECT_TRUE(eventually([&] { return queue_counts(queue) == "0 0"; }, 10s)) << queue_counts(queue);
}

TEST(RabbitBrokerHostile, RejectionLogIsRateLimitedAndRoutingKeysAreEscaped) {
  MAKE_OR_FAIL(fs, config());
  TokenStoreDouble store;
  ASSERT_TRUE(fs.broker->subscribe({"token.*"}, store.handler()).ok());
  constexpr int kGarbage = 40;
  for (int i = 0; i < kGarbage; ++i) {
    ASSERT_TRUE(fs.broker->publish("token.\x1b[2J", "garbage-" + std::to_string(i), 2s).ok());
  }
  ASSERT_TRUE(fs.broker->publish("token.issued", token_event("after-flood"), 2s).ok());
  ASSERT_TRUE(store.wait_for(H("after-flood"), 10s));
  EXPECT_EQ(fs.host->metric("dfd_broker_events_rejected_total", {{"reason", "invalid"}}), kGarbage);
  const std::string log = fs.host->log_text();
  EXPECT_LE(count_of(log, "rejected a '"), 5) << log;
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << "a routing key's escape reached the log";
}

// Issue 11 #3: `rabbitmqctl delete_queue` used to leave the consumer waiting on nothing.
void expect_a_deleted_queue_is_declared_again(const ConfigMap& cfg) {
  MAKE_OR_FAIL(fs, cfg);
  EventSink sink;
  ASSERT_TRUE(fs.broker->subscribe({"token.*"}, sink.handler()).ok());
  ASSERT_TRUE(fs.broker->publish("token.issued", "before", 2s).ok());
  ASSERT_TRUE(sink.wait_for_body("before", 5s));

  const std::string queue = "q-" + test_name();
  auto del = rabbitmqctl({"delete_queue", queue});
  ASSERT_EQ(del.status, 0) << del.output;
  auto t0 = RabbitClock::now();
  // The cancel is counted only after the consumer marked itself down, so "counted and healthy"
  // means the queue and its bindings are back.
  ASSERT_TRUE(eventually(
      [&] {
        return fs.host->metric("dfd_broker_consumer_cancels_total") == 1 &&
               fs.plugin.get()->health().healthy;
      },
      15s))
      << fs.plugin.get()->health().detail << "\n"
      << fs.host->log_text();
  std::cout << "[ info     ] consuming again " << seconds_since(t0) * 1000
            << " ms after delete_queue returned\n";
  Health h = fs.plugin.get()->health();
  EXPECT_NE(h.detail.find("cancelled the consumer 1 time"), std::string::npos) << h.detail;
  EXPECT_NE(h.detail.find("consuming queue '" + queue + "'"), std::string::npos) << h.detail;
  EXPECT_EQ(queue_counts(queue), "0 0") << "the queue was not declared again";

  ASSERT_TRUE(fs.broker->publish("token.issued", "after", 2s).ok());
  ASSERT_TRUE(sink.wait_for_body("after", 10s)) << fs.plugin.get()->health().detail;
  EXPECT_NE(fs.host->log_text().find("cancelled the consumer of queue '" + queue + "'"),
            std::string::npos);
}

TEST(RabbitBrokerHostile, ADeletedQueueIsDeclaredAgainAndConsumingResumes) {
  expect_a_deleted_queue_is_declared_again(config());
}

TEST(RabbitBrokerHostile, ADeletedQueueIsDeclaredAgainOverTls) {
  expect_a_deleted_queue_is_declared_again(tls_config());
}

// Issue 11 #12: every message, log line and health text with a password holding '/', '?', '#'
// and '@', whether the URL is malformed, percent-encoded, or the password comes from a file.
TEST(RabbitBrokerHostile, PasswordsWithUrlDelimitersNeverAppear) {
  const std::string pw = "p/a?s#s@x";
  const std::vector<std::string> pieces = {pw, "p/a?s", "s#s@x", "?s#s"};
  auto expect_hidden = [&](const std::string& where, const std::string& text) {
    for (const auto& p : pieces) {
      EXPECT_EQ(text.find(p), std::string::npos) << where << " shows '" << p << "': " << text;
    }
  };
  const std::string hostport = "127.0.0.1:" + std::to_string(RabbitEnv::port);
  {
    SCOPED_TRACE("raw in the URL: a config error");
    FakeHost host(config({{"url", "amqp://guest:" + pw + "@" + hostport + "/"}}),
                  "broker-rabbitmq");
    auto r = load_plugin("broker-rabbitmq", host);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    expect_hidden("status", r.status().to_string());
    expect_hidden("log", host.log_text());
  }
  auto user = rabbitmqctl({"add_user", "dfd-delims", pw});
  ASSERT_EQ(user.status, 0) << user.output;
  auto perms = rabbitmqctl({"set_permissions", "-p", "/", "dfd-delims", ".*", ".*", ".*"});
  ASSERT_EQ(perms.status, 0) << perms.output;
  {
    SCOPED_TRACE("percent-encoded in the URL: works, and is shown as ***");
    auto a = make(config({{"url", "amqp://dfd-delims:p%2Fa%3Fs%23s%40x@" + hostport + "/"}}));
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    EXPECT_TRUE(a->broker->connected());
    Health h = a->plugin.get()->health();
    EXPECT_NE(h.detail.find("amqp://dfd-delims:***@"), std::string::npos) << h.detail;
    expect_hidden("health", h.detail);
    expect_hidden("log", a->host->log_text());
  }
  {
    SCOPED_TRACE("from password_file, with a wrong password and an unreachable broker");
    TempDir tmp;
    write_file(tmp.file("pw"), pw + "\n");
    write_file(tmp.file("wrong"), pw + "-wrong\n");
    auto ok = make(config(
        {{"url", "amqp://dfd-delims@" + hostport + "/"}, {"password_file", tmp.file("pw")}}));
    ASSERT_TRUE(ok.ok()) << ok.status().to_string();
    EXPECT_TRUE(ok->broker->connected());
    expect_hidden("health", ok->plugin.get()->health().detail);
    expect_hidden("log", ok->host->log_text());

    FakeHost wrong(config({{"url", "amqp://dfd-delims@" + hostport + "/"},
                           {"password_file", tmp.file("wrong")}}),
                   "broker-rabbitmq");
    auto refused = load_plugin("broker-rabbitmq", wrong);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Code::kUnauthenticated) << refused.status().to_string();
    expect_hidden("status", refused.status().to_string());
    expect_hidden("log", wrong.log_text());

    const std::string nowhere = "127.0.0.1:" + std::to_string(free_port());
    auto down = make(config({{"url", "amqp://dfd-delims:p%2Fa%3Fs%23s%40x@" + nowhere + "/"}}));
    ASSERT_TRUE(down.ok()) << down.status().to_string();
    Status st = down->broker->publish("token.issued", "{}", 1s);
    EXPECT_EQ(st.code(), Code::kUnavailable);
    expect_hidden("publish", st.to_string());
    expect_hidden("health", down->plugin.get()->health().detail);
    down->plugin.stop();
    expect_hidden("log", down->host->log_text());
  }
  EXPECT_EQ(rabbitmqctl({"delete_user", "dfd-delims"}).status, 0);
}

}  // namespace
}  // namespace dfd::test
