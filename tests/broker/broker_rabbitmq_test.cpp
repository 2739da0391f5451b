// broker-rabbitmq against a real RabbitMQ: one private broker per run of this binary, started by
// scripts/rabbitmq in a temp dir (global environment) and stopped by PID at the end. A watchdog
// stops it too if this process dies without tearing down.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "broker_case.hpp"
#include "event_sink.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "rabbitmq_fixture.hpp"

namespace dfd::test {
namespace {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The one broker of this binary (every .cpp linked into it shares it).
[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new RabbitEnv);

INSTANTIATE_TEST_SUITE_P(RabbitMq, BrokerConformance,
                         ::testing::Values(broker_case("rabbitmq", [] { return make(config()); }),
                                           broker_case("rabbitmq_amqps",
                                                       [] { return make(tls_config()); })),
                         conformance::BrokerCaseName());

// ---------------------------------------------------------------------------------------------

TEST(RabbitBroker, PublishWithConfirmAndConsumeRoundTrip) {
  MAKE_OR_FAIL(a, config());
  EXPECT_TRUE(a.broker->connected());
  EventSink sink;
  ASSERT_TRUE(a.broker->subscribe({"token.*"}, sink.handler()).ok());
  Status st = a.broker->publish("token.issued", R"({"v":1,"token_hash":"ab"})", 2s);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_TRUE(sink.wait_for(1, 5s));
  auto ev = sink.events();
  EXPECT_EQ(ev[0].first, "token.issued");
  EXPECT_EQ(ev[0].second, R"({"v":1,"token_hash":"ab"})");
  EXPECT_EQ(a.host->metric("dfd_broker_published_total"), 1);
  EXPECT_TRUE(eventually([&] { return a.host->metric("dfd_broker_consumed_total") == 1; }, 2s));
  EXPECT_EQ(a.host->metric("dfd_broker_connected"), 1);
  Health h = a.plugin.get()->health();
  EXPECT_TRUE(h.healthy) << h.detail;
  EXPECT_NE(h.detail.find("connected to amqp://guest:***@127.0.0.1"), std::string::npos)
      << h.detail;
  EXPECT_NE(h.detail.find("q-PublishWithConfirmAndConsumeRoundTrip"), std::string::npos);
  EXPECT_EQ(a.host->log_text().find(":guest@"), std::string::npos) << a.host->log_text();
  auto t0 = Clock::now();
  a.plugin.stop();
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(a.host->metric("dfd_broker_connected"), 0);
}

TEST(RabbitBroker, DefaultQueueIsTheServerIdAndDefaultExchangeIsDfd) {
  MAKE_OR_FAIL(a, (ConfigMap{{"url", RabbitEnv::url}}));
  EventSink sink;
  ASSERT_TRUE(a.broker->subscribe({"server.heartbeat"}, sink.handler()).ok());
  std::string body = R"({"v":1,"server_id":"x"})";
  ASSERT_TRUE(a.broker->publish("server.heartbeat", body, 2s).ok());
  ASSERT_TRUE(sink.wait_for_body(body, 5s));
  EXPECT_NE(a.plugin.get()->health().detail.find("queue 'server-" + test_name() + "'"),
            std::string::npos)
      << a.plugin.get()->health().detail;
}

TEST(RabbitBroker, DurableQueueKeepsEventsWhileTheConsumerIsDown) {
  const std::string queue = "q-durable-fs";
  {
    MAKE_OR_FAIL(consumer, config({{"queue", queue}}));
    EventSink sink;
    ASSERT_TRUE(consumer.broker->subscribe({"token.*"}, sink.handler()).ok());
    ASSERT_TRUE(consumer.broker->publish("token.issued", "warmup", 2s).ok());
    ASSERT_TRUE(sink.wait_for_body("warmup", 5s));
    consumer.plugin.stop();
  }
  MAKE_OR_FAIL(publisher, config({{"queue", "q-unused"}}));  // never subscribes: no queue
  for (int i = 0; i < 10; ++i) {
    Status st = publisher.broker->publish("token.issued", "event-" + std::to_string(i), 2s);
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  MAKE_OR_FAIL(again, config({{"queue", queue}}));
  EventSink sink;
  ASSERT_TRUE(again.broker->subscribe({"token.*"}, sink.handler()).ok());
  ASSERT_TRUE(sink.wait_for(10, 10s)) << sink.events().size();
  auto ev = sink.events();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(ev[i].second, "event-" + std::to_string(i));
}

TEST(RabbitBroker, RedeliversWhenTheHandlerFails) {
  MAKE_OR_FAIL(a, config());
  EventSink sink;
  std::atomic<int> refusals{2};
  ASSERT_TRUE(
      a.broker
          ->subscribe({"token.*"}, sink.handler([&](const std::string&, const std::string& b) {
            return b == "flaky" && refusals.fetch_sub(1) > 0;
          }))
          .ok());
  auto t0 = Clock::now();
  ASSERT_TRUE(a.broker->publish("token.issued", "flaky", 2s).ok());
  ASSERT_TRUE(sink.wait_for_body("flaky", 10s));
  std::cout << "[ info     ] delivered after 2 refusals in " << seconds_since(t0) << " s\n";
  EXPECT_EQ(sink.calls(), 3);
  EXPECT_EQ(sink.events().size(), 1u);
  EXPECT_TRUE(eventually([&] { return a.host->metric("dfd_broker_consumed_total") == 1; }, 2s));
  EXPECT_NE(a.host->log_text().find("handler for 'token.issued' failed"), std::string::npos);
}

// Publishes `total` events from `threads` threads; returns events per second.
double publish_rate(Broker* b, int threads, int total) {
  std::atomic<int> next{0}, failures{0};
  std::vector<std::thread> ts;
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        std::string body = R"({"v":1,"token_hash":")" + std::to_string(i) +
                           R"(","scope":"file:0123456789abcdef","user_id":7,"expires_at":1})";
        if (!b->publish("token.issued", body, 5s).ok()) ++failures;
      }
    });
  }
  for (auto& t : ts) t.join();
  double s = seconds_since(t0);
  EXPECT_EQ(failures.load(), 0);
  return total / s;
}

TEST(RabbitBroker, ConfirmPipeliningThroughput) {
  constexpr int kTotal = 5000, kThreads = 16;
  {
    MAKE_OR_FAIL(a, config({{"queue", "q-rate-unbound"}}));
    double r = publish_rate(a.broker, kThreads, kTotal);
    std::cout << "[ rate     ] confirmed publishes, no queue bound: " << static_cast<int>(r)
              << "/s (" << kTotal << " events, " << kThreads << " threads)\n";
  }
  {
    MAKE_OR_FAIL(a, tls_config({{"queue", "q-rate-unbound-tls"}}));
    double r = publish_rate(a.broker, kThreads, kTotal);
    std::cout << "[ rate     ] same over amqps (TLS): " << static_cast<int>(r) << "/s\n";
  }
  MAKE_OR_FAIL(consumer, config());
  std::atomic<int> got{0};
  ASSERT_TRUE(consumer.broker
                  ->subscribe({"token.*"},
                              [&](std::string_view, std::string_view) {
                                ++got;
                                return Status::Ok();
                              })
                  .ok());
  MAKE_OR_FAIL(a, config({{"queue", "q-rate-publisher"}}));
  constexpr int kWarmup = 500;  // first publishes to a fresh queue are slower; not measured
  publish_rate(a.broker, kThreads, kWarmup);
  double r = publish_rate(a.broker, kThreads, kTotal);
  std::cout << "[ rate     ] confirmed publishes, durable queue bound: " << static_cast<int>(r)
            << "/s (" << kTotal << " events, " << kThreads << " threads)\n";
  // For the docs: one caller at a time (1/latency) and more callers than the info server has.
  double one = publish_rate(a.broker, 1, 300);
  double many = publish_rate(a.broker, 64, kTotal);
  std::cout << "[ rate     ] same, 1 thread: " << static_cast<int>(one) << "/s (confirm round trip "
            << 1000.0 / one << " ms); 64 threads: " << static_cast<int>(many) << "/s\n";
  // The same durable queue, published to over amqps, right after (same load on the machine).
  MAKE_OR_FAIL(t, tls_config({{"exchange", "x-" + test_name()}, {"queue", "q-rate-tls"}}));
  double tls = publish_rate(t.broker, kThreads, kTotal);
  std::cout << "[ rate     ] durable queue bound, over amqps (TLS): " << static_cast<int>(tls)
            << "/s (plain " << static_cast<int>(r) << "/s above)\n";
  constexpr int kAll = kWarmup + kTotal + 300 + kTotal;
  EXPECT_EQ(a.host->metric("dfd_broker_published_total"), kAll);
  EXPECT_TRUE(eventually([&] { return got.load() >= kAll + kTotal; }, 30s)) << got.load();
}

TEST(RabbitBroker, BadUrlIsAClearErrorWithThePasswordRedacted) {
  for (const std::string& bad : {std::string("http://guest:topsecret@127.0.0.1/"),
                                 std::string("amqp://guest:topsecret@127.0.0.1:nope/")}) {
    auto r = make(config({{"url", bad}}));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("'url'"), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find("topsecret"), std::string::npos) << r.status().message();
  }
  ConfigMap no_url = config();
  no_url.erase("url");
  auto r = make(no_url);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("url"), std::string::npos);
  auto typo = make(config({{"prefech", std::int64_t{5}}}));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("prefech"), std::string::npos);
}

TEST(RabbitBroker, WrongPasswordFailsStartWithoutShowingIt) {
  std::string url =
      "amqp://guest:wrong-pass-xyz@127.0.0.1:" + std::to_string(RabbitEnv::port) + "/";
  auto host = std::make_unique<FakeHost>(config({{"url", url}}), "broker-rabbitmq");
  auto t0 = Clock::now();
  auto r = load_plugin("broker-rabbitmq", *host);
  ASSERT_FALSE(r.ok());
  std::cout << "[ info     ] " << r.status().to_string() << "\n";
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().to_string();
  EXPECT_NE(r.status().message().find("ACCESS_REFUSED"), std::string::npos);
  EXPECT_NE(r.status().message().find("amqp://guest:***@"), std::string::npos);
  EXPECT_EQ(r.status().message().find("wrong-pass-xyz"), std::string::npos);
  EXPECT_EQ(host->log_text().find("wrong-pass-xyz"), std::string::npos) << host->log_text();
}

TEST(RabbitBroker, PasswordFromFileOrEnvironment) {
  TempDir tmp;
  write_file(tmp.file("pw"), "guest\n");
  ASSERT_EQ(::chmod(tmp.file("pw").c_str(), 0600), 0);
  std::string url = "amqp://guest@127.0.0.1:" + std::to_string(RabbitEnv::port) + "/";
  {
    MAKE_OR_FAIL(a, config({{"url", url}, {"password_file", tmp.file("pw")}}));
    EXPECT_TRUE(a.broker->connected());
    EXPECT_EQ(a.host->log_text().find("password_file"), std::string::npos) << a.host->log_text();
  }
  {
    // Others may read it: it still works, with a warning that says how to fix it.
    ASSERT_EQ(::chmod(tmp.file("pw").c_str(), 0644), 0);
    MAKE_OR_FAIL(a, config({{"url", url}, {"password_file", tmp.file("pw")}}));
    EXPECT_TRUE(a.broker->connected());
    EXPECT_NE(a.host->log_text().find("chmod 600"), std::string::npos) << a.host->log_text();
  }
  write_file(tmp.file("bad"), "not-it\n");
  {
    auto r = make(config({{"url", url}, {"password_file", tmp.file("bad")}}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
  }
  ::setenv("DFD_AMQP_PASSWORD", "guest", 1);
  auto r = make(config({{"url", url}}));
  ::unsetenv("DFD_AMQP_PASSWORD");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->broker->connected());
}

TEST(RabbitBroker, UnreachableBrokerFailsFastAndStopsQuickly) {
  std::string url = "amqp://guest:hidden-pw@127.0.0.1:" + std::to_string(free_port()) + "/";
  MAKE_OR_FAIL(a, config({{"url", url}}));  // start succeeds: it keeps retrying
  EXPECT_FALSE(a.broker->connected());
  EventSink sink;
  ASSERT_TRUE(a.broker->subscribe({"token.*"}, sink.handler()).ok());
  auto t0 = Clock::now();
  Status st = a.broker->publish("token.issued", "{}", 2s);
  EXPECT_LT(Clock::now() - t0, 100ms);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.to_string();
  EXPECT_EQ(st.message().find("hidden-pw"), std::string::npos);
  Health h = a.plugin.get()->health();
  EXPECT_FALSE(h.healthy);
  EXPECT_NE(h.detail.find("cannot connect"), std::string::npos) << h.detail;
  EXPECT_EQ(h.detail.find("hidden-pw"), std::string::npos);
  EXPECT_EQ(a.host->metric("dfd_broker_publish_failures_total"), 1);
  t0 = Clock::now();
  a.plugin.stop();
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(a.host->log_text().find("hidden-pw"), std::string::npos) << a.host->log_text();
}

TEST(RabbitBroker, HeartbeatsKeepAnIdleConnectionOpen) {
  MAKE_OR_FAIL(a, config({{"heartbeat_s", std::int64_t{1}}}));
  EventSink sink;
  ASSERT_TRUE(a.broker->subscribe({"token.*"}, sink.handler()).ok());
  // RabbitMQ closes a connection that is silent for two heartbeat intervals.
  std::this_thread::sleep_for(3500ms);
  EXPECT_TRUE(a.broker->connected());
  ASSERT_TRUE(a.broker->publish("token.issued", "still-here", 2s).ok());
  ASSERT_TRUE(sink.wait_for_body("still-here", 5s));
  EXPECT_EQ(a.host->log_text().find("lost"), std::string::npos) << a.host->log_text();
}

TEST(RabbitBroker, QueuedEventsWaitForASubscriptionMadeAMomentLater) {
  const std::string queue = "q-two-step";
  {
    MAKE_OR_FAIL(first, config({{"queue", queue}}));
    EventSink sink;
    ASSERT_TRUE(first.broker->subscribe({"token.*"}, sink.handler()).ok());
    ASSERT_TRUE(first.broker->subscribe({"file.*"}, sink.handler()).ok());
  }
  MAKE_OR_FAIL(publisher, config({{"queue", "q-unused"}}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(publisher.broker->publish("file.available", "f" + std::to_string(i), 2s).ok());
    ASSERT_TRUE(publisher.broker->publish("token.issued", "t" + std::to_string(i), 2s).ok());
  }
  // A host subscribing in two steps: the queue already holds events for the second one.
  MAKE_OR_FAIL(again, config({{"queue", queue}}));
  EventSink tokens, files;
  ASSERT_TRUE(again.broker->subscribe({"token.*"}, tokens.handler()).ok());
  ASSERT_TRUE(tokens.wait_for(3, 5s));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(again.broker->subscribe({"file.*"}, files.handler()).ok());
  ASSERT_TRUE(files.wait_for(3, 5s)) << files.events().size();
  auto ev = files.events();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ev[i].second, "f" + std::to_string(i));
}

// True once every thread of `pid` is stopped (state T in /proc/PID/task/*/stat). kill(SIGSTOP)
// returns before threads running on another CPU have stopped, so a test that needs the process
// frozen waits for this.
bool all_threads_stopped(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/task", ec);
  if (ec) return false;
  int threads = 0;
  for (const auto& task : it) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) return false;
    char state = line[close + 2];
    if (state != 'T' && state != 't') return false;
    ++threads;
  }
  return threads > 0;
}

TEST(RabbitBroker, NoConfirmInTimeIsDeadlineExceededAndStopStaysQuick) {
  MAKE_OR_FAIL(a, config());
  // Stall the Erlang VM (its PID is in the broker's pid file); always resume it.
  const pid_t vm = static_cast<pid_t>(std::stol(read_file(RabbitEnv::dir + "/rabbitmq.pid")));
  ASSERT_GT(vm, 1);
  struct Resume {
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{vm};
  ASSERT_EQ(::kill(vm, SIGSTOP), 0);
  ASSERT_TRUE(eventually([&] { return all_threads_stopped(vm); }, 5s))
      << "the Erlang VM (pid " << vm << ") did not stop";
  auto t0 = Clock::now();
  Status st = a.broker->publish("token.issued", "stalled", 300ms);
  auto took = Clock::now() - t0;
  EXPECT_EQ(st.code(), Code::kDeadlineExceeded) << st.to_string();
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 800ms);
  EXPECT_EQ(a.host->metric("dfd_broker_publish_failures_total"), 1);
  t0 = Clock::now();
  a.plugin.stop();  // the polite close gets no answer either
  EXPECT_LT(Clock::now() - t0, 1s);
}

// Restarts the shared broker (it is running again when the test ends).
TEST(RabbitBrokerZRestart, ReconnectsAfterABrokerRestartWithoutRecreatingThePlugin) {
  MAKE_OR_FAIL(a, config());
  EventSink sink;
  ASSERT_TRUE(a.broker->subscribe({"token.*"}, sink.handler()).ok());
  ASSERT_TRUE(a.broker->publish("token.issued", "before", 2s).ok());
  ASSERT_TRUE(sink.wait_for_body("before", 5s));
  // The same over TLS (its own queue): a new TLS session on every reconnect.
  MAKE_OR_FAIL(t, tls_config({{"queue", "q-restart-tls"}}));
  EventSink tls_sink;
  ASSERT_TRUE(t.broker->subscribe({"token.*"}, tls_sink.handler()).ok());
  ASSERT_TRUE(t.broker->publish("token.issued", "tls-before", 2s).ok());
  ASSERT_TRUE(tls_sink.wait_for_body("tls-before", 5s));

  auto stop = run({RabbitEnv::script(), "stop", RabbitEnv::dir});
  ASSERT_EQ(stop.status, 0) << stop.output;
  ASSERT_TRUE(eventually([&] { return !a.broker->connected(); }, 5s));
  EXPECT_EQ(a.host->metric("dfd_broker_connected"), 0);
  auto t0 = Clock::now();
  Status down = a.broker->publish("token.issued", "while-down", 2s);
  EXPECT_LT(Clock::now() - t0, 100ms);
  EXPECT_EQ(down.code(), Code::kUnavailable) << down.to_string();
  EXPECT_FALSE(a.plugin.get()->health().healthy);

  auto restart = run({RabbitEnv::script(), "restart", RabbitEnv::dir});
  ASSERT_EQ(restart.status, 0) << restart.output;
  auto back = Clock::now();
  ASSERT_TRUE(eventually([&] { return a.broker->publish("token.issued", "after", 1s).ok(); }, 10s))
      << a.plugin.get()->health().detail;
  ASSERT_TRUE(sink.wait_for_body("after", 10s));
  ASSERT_TRUE(
      eventually([&] { return t.broker->publish("token.issued", "tls-after", 1s).ok(); }, 10s))
      << t.plugin.get()->health().detail;
  ASSERT_TRUE(tls_sink.wait_for_body("tls-after", 10s)) << t.plugin.get()->health().detail;
  EXPECT_TRUE(eventually([&] { return t.plugin.get()->health().healthy; }, 5s))
      << t.plugin.get()->health().detail;
  double took = seconds_since(back);
  std::cout << "[ info     ] publish + consume working again " << took
            << " s after the broker was back\n";
  EXPECT_LT(took, 10.0);
  EXPECT_TRUE(eventually([&] { return a.plugin.get()->health().healthy; }, 5s))
      << a.plugin.get()->health().detail;
  EXPECT_NE(a.host->log_text().find("reconnecting"), std::string::npos);
}

// Persistent events survive a broker restart in a durable queue; routing keys listed in
// `transient` (and heartbeats by default) are kept in memory only and are gone after it.
TEST(RabbitBrokerZRestart, OnlyPersistentEventsSurviveABrokerRestart) {
  const std::string queue = "q-persistence";
  {
    MAKE_OR_FAIL(consumer, config({{"queue", queue}}));
    EventSink sink;
    ASSERT_TRUE(consumer.broker->subscribe({"token.*", "server.*"}, sink.handler()).ok());
    ASSERT_TRUE(consumer.broker->publish("token.issued", "warmup", 2s).ok());
    ASSERT_TRUE(sink.wait_for_body("warmup", 5s));
    consumer.plugin.stop();
  }
  {
    // Defaults: heartbeats transient, everything else persistent.
    MAKE_OR_FAIL(defaults, config({{"queue", "q-unused"}}));
    ASSERT_TRUE(defaults.broker->publish("token.issued", "persistent", 2s).ok());
    ASSERT_TRUE(defaults.broker->publish("server.heartbeat", "heartbeat", 2s).ok());
    defaults.plugin.stop();
    // A `transient` list replaces the default one.
    MAKE_OR_FAIL(listed, config({{"queue", "q-unused"},
                                 {"transient", std::vector<std::string>{"token.revoked"}}}));
    ASSERT_TRUE(listed.broker->publish("token.revoked", "transient", 2s).ok());
    ASSERT_TRUE(listed.broker->publish("server.heartbeat", "persistent-heartbeat", 2s).ok());
    listed.plugin.stop();
  }
  auto restart = run({RabbitEnv::script(), "restart", RabbitEnv::dir});
  ASSERT_EQ(restart.status, 0) << restart.output;
  MAKE_OR_FAIL(again, config({{"queue", queue}}));
  EventSink sink;
  ASSERT_TRUE(again.broker->subscribe({"token.*", "server.*"}, sink.handler()).ok());
  ASSERT_TRUE(sink.wait_for_body("persistent", 10s));
  ASSERT_TRUE(sink.wait_for_body("persistent-heartbeat", 5s));
  // Anything else still queued would arrive right behind it: publish a marker and wait for it.
  ASSERT_TRUE(again.broker->publish("token.issued", "marker", 2s).ok());
  ASSERT_TRUE(sink.wait_for_body("marker", 5s));
  for (const auto& [key, body] : sink.events()) {
    EXPECT_NE(body, "transient") << key;
    EXPECT_NE(body, "heartbeat") << key;
  }
}

TEST(RabbitBroker, TransientKeysMustBeRoutingKeys) {
  auto r = make(config({{"transient", std::vector<std::string>{"token.*"}}}), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("transient"), std::string::npos) << r.status().to_string();
  EXPECT_NE(r.status().message().find("not a routing key"), std::string::npos);
}

}  // namespace
}  // namespace dfd::test
