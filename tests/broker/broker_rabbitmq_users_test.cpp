// One RabbitMQ user per role (scripts/rabbitmq user): what RabbitMQ lets each do, through
// broker-rabbitmq over amqps:// on the binary's broker (rabbitmq_fixture.hpp). guest, which has
// every permission, would pass none of these tests.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "event_sink.hpp"
#include "rabbitmq_fixture.hpp"

namespace dfd::test {
namespace {
using namespace std::chrono_literals;

const std::string kInfoPw = "info-pw-1";
const std::string kFsPw = "fs-pw-1";

class RabbitUsers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = run({RabbitEnv::script(), "user", RabbitEnv::dir, "dfd-info", kInfoPw, "info", "info",
                  "--", "fs-a", kFsPw, "fileserver", "--", "fs-b", kFsPw, "fileserver", "fs-b"});
    ASSERT_EQ(r.status, 0) << r.output;
  }

  // A host of `user` on the real exchange "dfd" with the queue its server id gives.
  static ConfigMap as(const std::string& user, const std::string& pw, const std::string& queue) {
    return ConfigMap{{"url", amqps_url_for(user, pw)},
                     {"ca_file", RabbitEnv::ca_file},
                     {"exchange", "dfd"},
                     {"queue", queue},
                     {"reconnect_max_ms", std::int64_t{1000}}};
  }

  // guest (no restriction) watching every event on "dfd".
  static ConfigMap observer(const std::string& queue) {
    return tls_config({{"exchange", "dfd"}, {"queue", queue}});
  }
};

TEST_F(RabbitUsers, AFileServerPublishesOnlyItsOwnAvailabilityAndHeartbeats) {
  MAKE_OR_FAIL(watch, observer("q-watch-fs-a"));
  EventSink seen;
  ASSERT_TRUE(watch.broker->subscribe({"#"}, seen.handler()).ok());
  // fs-a's user may not configure the exchange: the plugin checks that it exists instead.
  MAKE_OR_FAIL(fs, as("fs-a", kFsPw, "fs-a"));
  ASSERT_TRUE(fs.broker->connected()) << fs.plugin.get()->health().detail;

  Status ok = fs.broker->publish("server.heartbeat.fs-a", "beat", 10s);
  ASSERT_TRUE(ok.ok()) << ok.to_string();
  for (const std::string key : {"token.issued", "token.issued", "server.heartbeat.fs-b"}) {
    // Refused at once (RabbitMQ closes the channel), not after the 10 s timeout.
    Status st = fs.broker->publish(key, "forged", 10s);
    EXPECT_EQ(st.code(), Code::kPermissionDenied) << key << ": " << st.to_string();
    EXPECT_NE(st.message().find("RabbitMQ refused routing key '" + key + "' for user 'fs-a'"),
              std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("ACCESS_REFUSED"), std::string::npos) << st.message();
  }
  // The same plugin instance goes on publishing what it may.
  ok = fs.broker->publish("file.available.fs-a", "mine", 10s);
  ASSERT_TRUE(ok.ok()) << ok.to_string();
  EXPECT_TRUE(fs.broker->connected());
  EXPECT_TRUE(fs.plugin.get()->health().healthy) << fs.plugin.get()->health().detail;

  ASSERT_TRUE(seen.wait_for_body("mine", 5s));
  for (const auto& [key, body] : seen.events()) EXPECT_NE(body, "forged") << key;
  EXPECT_EQ(fs.host->metric("dfd_broker_publish_refused_total"), 3);
  const std::string log = fs.host->log_text();
  // Logged once per key (the second refusal of token.issued goes to the debug level only).
  EXPECT_EQ(count_of(log, "logged once per key"), 2) << log;
  EXPECT_EQ(count_of(log,
                     "'token.issued' for user 'fs-a': 403 ACCESS_REFUSED - access to topic "
                     "'token.issued' in exchange 'dfd' in vhost '/' refused for user 'fs-a' "
                     "(the user's permissions"),
            1)
      << log;
  EXPECT_EQ(log.find(kFsPw), std::string::npos) << log;
}

// Refused and permitted events in flight together: every permitted one is confirmed (sent again
// on the reopened channel when RabbitMQ dropped it), every refused one fails.
TEST_F(RabbitUsers, PermittedEventsInFlightWithRefusedOnesAreStillConfirmed) {
  MAKE_OR_FAIL(fs, as("fs-a", kFsPw, "fs-a"));
  constexpr int kThreads = 8, kEach = 10;
  std::atomic<int> permitted_ok{0}, refused_denied{0}, other{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const bool refused = (i + t) % 2 == 0;
        Status st =
            fs.broker->publish(refused ? "token.issued" : "server.heartbeat.fs-a", "x", 10s);
        if (refused && st.code() == Code::kPermissionDenied) {
          ++refused_denied;
        } else if (!refused && st.ok()) {
          ++permitted_ok;
        } else {
          ++other;
          ADD_FAILURE() << (refused ? "refused key: " : "permitted key: ") << st.to_string();
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(permitted_ok.load(), kThreads * kEach / 2);
  EXPECT_EQ(refused_denied.load(), kThreads * kEach / 2);
  EXPECT_EQ(other.load(), 0);
  EXPECT_TRUE(fs.broker->publish("server.heartbeat.fs-a", "after", 10s).ok());
}

TEST_F(RabbitUsers, TheInfoServerMintsTokensButCannotAnnounceFiles) {
  MAKE_OR_FAIL(info, as("dfd-info", kInfoPw, "info"));
  EXPECT_TRUE(info.broker->publish("token.issued", "t", 10s).ok());
  EXPECT_TRUE(info.broker->publish("token.revoked", "r", 10s).ok());
  for (const std::string key : {"file.available.fs-a", "server.heartbeat.fs-a", "token.other"}) {
    Status st = info.broker->publish(key, "forged", 10s);
    EXPECT_EQ(st.code(), Code::kPermissionDenied) << key << ": " << st.to_string();
  }
  EXPECT_TRUE(info.broker->publish("token.issued", "t2", 10s).ok());
  // It reads file and server events.
  EventSink files;
  EXPECT_TRUE(info.broker->subscribe({"file.#", "server.#"}, files.handler()).ok());
}

TEST_F(RabbitUsers, AFileServerCannotBindToFileEventsButReadsTokens) {
  // Refused while the consumer sets up (the first subscription) ...
  {
    MAKE_OR_FAIL(fs, as("fs-a", kFsPw, "fs-a"));
    EventSink files;
    Status st = fs.broker->subscribe({"file.#"}, files.handler());
    EXPECT_EQ(st.code(), Code::kPermissionDenied) << st.to_string();
    EXPECT_NE(st.message().find("'file.#'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("ACCESS_REFUSED"), std::string::npos) << st.message();
    Health h = fs.plugin.get()->health();
    EXPECT_FALSE(h.healthy);
    EXPECT_NE(h.detail.find("refused binding 'file.#'"), std::string::npos) << h.detail;
  }
  // ... and while it consumes (a later subscription): the earlier one keeps working.
  MAKE_OR_FAIL(fs, as("fs-b", kFsPw, "fs-b"));
  EventSink files, tokens;
  ASSERT_TRUE(fs.broker->subscribe({"token.*"}, tokens.handler()).ok());
  for (const std::string key : {"file.#", "server.*"}) {
    Status st = fs.broker->subscribe({key}, files.handler());
    EXPECT_EQ(st.code(), Code::kPermissionDenied) << key << ": " << st.to_string();
    EXPECT_NE(st.message().find("'" + key + "'"), std::string::npos) << st.message();
  }
  MAKE_OR_FAIL(info, as("dfd-info", kInfoPw, "info"));
  ASSERT_TRUE(info.broker->publish("token.issued", "for-fs-b", 10s).ok());
  ASSERT_TRUE(tokens.wait_for_body("for-fs-b", 10s)) << fs.plugin.get()->health().detail;
  auto bindings =
      rabbitmqctl({"list_bindings", "--no-table-headers", "destination_name", "routing_key"});
  EXPECT_NE(bindings.output.find("fs-b\ttoken.*"), std::string::npos) << bindings.output;
  EXPECT_EQ(bindings.output.find("fs-b\tfile.#"), std::string::npos) << bindings.output;
  EXPECT_EQ(bindings.output.find("fs-b\tserver.*"), std::string::npos) << bindings.output;
  EXPECT_EQ(bindings.output.find("fs-a\tfile.#"), std::string::npos) << bindings.output;
}

TEST_F(RabbitUsers, AFileServerCannotPublishToAnotherExchange) {
  MAKE_OR_FAIL(fs, (ConfigMap{{"url", amqps_url_for("fs-a", kFsPw)},
                              {"ca_file", RabbitEnv::ca_file},
                              {"exchange", "amq.topic"},
                              {"queue", "fs-a"}}));
  Status st = fs.broker->publish("server.heartbeat.fs-a", "elsewhere", 10s);
  EXPECT_EQ(st.code(), Code::kPermissionDenied) << st.to_string();
  EXPECT_NE(st.message().find("exchange 'amq.topic'"), std::string::npos) << st.message();
}

TEST_F(RabbitUsers, PasswordsChangeAndUsersAreDeleted) {
  // Ok only when connected: a started plugin may still be retrying.
  auto login = [](const std::string& pw) -> Status {
    auto r = make(as("doomed", pw, "doomed"));
    if (!r.ok()) return r.status();
    return r->broker->connected() ? Status::Ok() : Status::Unavailable("not connected");
  };
  auto r = run({RabbitEnv::script(), "user", RabbitEnv::dir, "doomed", "first", "fileserver"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(login("first").ok());
  TempDir tmp;  // the new password from a file (@FILE): on no command line
  write_file(tmp.file("pw"), "second\n");
  r = run(
      {RabbitEnv::script(), "user", RabbitEnv::dir, "doomed", "@" + tmp.file("pw"), "fileserver"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(login("first").code(), Code::kUnauthenticated);
  EXPECT_TRUE(login("second").ok());
  r = run({RabbitEnv::script(), "user", RabbitEnv::dir, "--delete", "doomed"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(login("second").code(), Code::kUnauthenticated);
  r = run({RabbitEnv::script(), "user", RabbitEnv::dir, "x", "pw", "admin"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("info or fileserver"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace dfd::test
