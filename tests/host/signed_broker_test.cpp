// The host's SignedBroker (host/src/signed_broker.hpp) over the real broker-local plugin: what a
// subscriber of the wrapper gets, what is refused and counted, and that an event whose handler
// failed is still applied when the broker delivers it again.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "dfd/broker.hpp"
#include "dfd/event_signing.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "signed_broker.hpp"

namespace dfd::test {
namespace {
using namespace std::chrono_literals;
namespace ev = dfd::events;

const std::string kBody = R"({"v":1,"token_hash":"SECRET-BODY"})";

struct Received {
  std::mutex mu;
  std::vector<std::string> bodies;
  std::atomic<int> calls{0};
  std::atomic<int> fail_first{0};  // this many calls return kUnavailable first
  EventHandler handler() {
    return [this](std::string_view, std::string_view body) -> Status {
      if (calls.fetch_add(1) < fail_first.load()) return Status::Unavailable("not yet");
      std::lock_guard<std::mutex> g(mu);
      bodies.emplace_back(body);
      return Status::Ok();
    };
  }
  std::size_t count() {
    std::lock_guard<std::mutex> g(mu);
    return bodies.size();
  }
};

bool eventually(const std::function<bool()>& f) {
  for (int i = 0; i < 200; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

struct SignedBrokerTest : ::testing::Test {
  FakeHost host{{}, "broker-local"};
  TempDir dir;
  LoadedPlugin plugin;
  Broker* inner = nullptr;
  std::unique_ptr<host::SignedBroker> signed_broker;
  ev::KeyPairPem info = *ev::generate_key_pair();

  void SetUp() override {
    auto p = load_plugin("broker-local", host);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    plugin = std::move(*p);
    inner = plugin.as<Broker>();
    std::filesystem::create_directories(dir.file("trusted"));
    write_file(dir.file("trusted/info.pub"), info.public_pem);
    auto trusted = ev::TrustedKeys::load_dir(dir.file("trusted"));
    ASSERT_TRUE(trusted.ok()) << trusted.status().to_string();
    signed_broker = std::make_unique<host::SignedBroker>(
        *inner, *ev::Signer::from_pem(info.private_pem, "info"), dir.file("trusted"), *trusted,
        std::chrono::seconds(600), host.logger(), host.metrics(), host.clock());
  }
  void TearDown() override { plugin.stop(); }
  double rejected(const std::string& reason) {
    return host.metric("dfd_events_rejected_total", {{"reason", reason}});
  }
  std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(host.clock().now().time_since_epoch())
        .count();
  }
};

TEST_F(SignedBrokerTest, SubscribersSeeThePlainBodyAndTheWireCarriesTheSignature) {
  Received plain, raw;
  ASSERT_TRUE(signed_broker->subscribe({"token.*"}, plain.handler()).ok());
  ASSERT_TRUE(inner->subscribe({"token.*"}, raw.handler()).ok());
  ASSERT_TRUE(signed_broker->publish("token.issued", kBody, 1s).ok());
  ASSERT_TRUE(eventually([&] { return plain.count() == 1 && raw.count() == 1; }));
  EXPECT_EQ(plain.bodies[0], kBody);
  EXPECT_EQ(raw.bodies[0].rfind("dfd-sig1 info " + info.key_id + " ", 0), 0u) << raw.bodies[0];
  EXPECT_EQ(host.metric("dfd_events_signed_total"), 1);
  EXPECT_EQ(host.metric("dfd_events_verified_total"), 1);
}

TEST_F(SignedBrokerTest, AnEventWhoseHandlerFailedIsAppliedWhenDeliveredAgain) {
  Received r;
  r.fail_first = 2;  // broker-local retries after 50 ms, then 100 ms
  ASSERT_TRUE(signed_broker->subscribe({"token.*"}, r.handler()).ok());
  ASSERT_TRUE(signed_broker->publish("token.issued", kBody, 1s).ok());
  ASSERT_TRUE(eventually([&] { return r.count() == 1; })) << r.calls.load();
  EXPECT_EQ(r.calls.load(), 3);
  EXPECT_EQ(rejected("replayed"), 0);
}

TEST_F(SignedBrokerTest, UnsignedUntrustedAndReplayedEventsAreRefusedOnceAndCounted) {
  Received r;
  ASSERT_TRUE(signed_broker->subscribe({"token.*"}, r.handler()).ok());
  auto sealed = ev::Signer::from_pem(info.private_pem, "info")->seal("token.issued", kBody, now());
  ASSERT_TRUE(sealed.ok());
  ASSERT_TRUE(inner->publish("token.issued", *sealed, 1s).ok());
  ASSERT_TRUE(eventually([&] { return r.count() == 1; }));
  ASSERT_TRUE(inner->publish("token.issued", *sealed, 1s).ok());  // the same bytes again
  ASSERT_TRUE(inner->publish("token.issued", kBody, 1s).ok());    // unsigned
  auto stranger = *ev::generate_key_pair();
  ASSERT_TRUE(inner
                  ->publish("token.issued",
                            *ev::Signer::from_pem(stranger.private_pem, "info")
                                 ->seal("token.issued", kBody, now()),
                            1s)
                  .ok());
  ASSERT_TRUE(eventually([&] {
    return rejected("replayed") == 1 && rejected("unsigned") == 1 && rejected("unknown_key") == 1;
  })) << host.log_text();
  EXPECT_EQ(r.count(), 1u);
  // broker-local counts each refusal once (dropped, never retried); the duplicate is acknowledged.
  EXPECT_TRUE(eventually([&] {
    return host.metric("dfd_broker_events_rejected_total", {{"reason", "invalid"}}) == 2;
  }));
  EXPECT_EQ(host.log_text().find("SECRET-BODY"), std::string::npos);
  EXPECT_NE(host.log_text().find("event dropped: replayed"), std::string::npos);
  EXPECT_NE(host.log_text().find("event refused: unsigned"), std::string::npos);
}

TEST_F(SignedBrokerTest, ANewKeyIsTrustedAfterReload) {
  Received r;
  ASSERT_TRUE(signed_broker->subscribe({"file.#"}, r.handler()).ok());
  auto fs = *ev::generate_key_pair();
  auto fs_signer = *ev::Signer::from_pem(fs.private_pem, "fs-a");
  const std::string key = "file.available.fs-a";
  ASSERT_TRUE(inner->publish(key, *fs_signer.seal(key, kBody, now()), 1s).ok());
  ASSERT_TRUE(eventually([&] { return rejected("unknown_key") == 1; }));
  write_file(dir.file("trusted/fs-a.pub"), fs.public_pem);
  ASSERT_TRUE(signed_broker->reload_trusted_keys().ok());
  ASSERT_TRUE(inner->publish(key, *fs_signer.seal(key, kBody, now()), 1s).ok());
  ASSERT_TRUE(eventually([&] { return r.count() == 1; }));
  // A broken folder keeps the old keys.
  write_file(dir.file("trusted/bad.pub"), "junk");
  EXPECT_FALSE(signed_broker->reload_trusted_keys().ok());
  ASSERT_TRUE(inner->publish(key, *fs_signer.seal(key, kBody, now()), 1s).ok());
  ASSERT_TRUE(eventually([&] { return r.count() == 2; }));
}

}  // namespace
}  // namespace dfd::test
