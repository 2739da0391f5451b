// The RabbitMQ test fixture of broker_rabbitmq_test: ONE real private broker per binary
// (scripts/rabbitmq start --tls in a temp dir, so it listens for amqp:// and amqps://; stopped by
// PID at the end; a watchdog stops it if the process dies), and helpers to make broker-rabbitmq
// instances against it. The .cpp files of the
// binary share it; broker_rabbitmq_test.cpp registers the environment.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "broker_instance.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace dfd::test {

using RabbitClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// The broker for the whole binary.
class RabbitEnv : public ::testing::Environment {
 public:
  static inline std::string url, dir;
  static inline int port = 0;
  // The TLS listener: amqps://guest:guest@127.0.0.1:PORT/, its CA and the PKI directory
  // (scripts/pki: ca.pem, rabbitmq.pem; more leaves with pki_leaf()).
  static inline std::string amqps_url, ca_file, pki_dir;
  static inline int amqps_port = 0;

  void SetUp() override {
    tmp_ = std::make_unique<TempDir>();
    dir = tmp_->file("rabbitmq");
    pki_dir = tmp_->file("pki");
    auto t0 = RabbitClock::now();
    auto r = run({script(), "start", dir, "--tls", pki_dir});
    ASSERT_EQ(r.status, 0) << "scripts/rabbitmq start failed:\n" << r.output;
    std::cout << "[ broker   ] " << r.output << "[ broker   ] started in "
              << std::chrono::duration<double>(RabbitClock::now() - t0).count() << " s\n";
    std::istringstream env(read_file(dir + "/rabbitmq.env"));
    for (std::string line; std::getline(env, line);) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      if (line.substr(0, eq) == "DFD_AMQP_URL") url = line.substr(eq + 1);
      if (line.substr(0, eq) == "DFD_AMQP_PORT") port = std::stoi(line.substr(eq + 1));
      if (line.substr(0, eq) == "DFD_AMQPS_URL") amqps_url = line.substr(eq + 1);
      if (line.substr(0, eq) == "DFD_AMQPS_PORT") amqps_port = std::stoi(line.substr(eq + 1));
      if (line.substr(0, eq) == "DFD_RABBITMQ_CA") ca_file = line.substr(eq + 1);
    }
    ASSERT_FALSE(url.empty());
    ASSERT_FALSE(amqps_url.empty());
    ASSERT_FALSE(ca_file.empty());
    start_watchdog();
  }

  void TearDown() override {
    stop_watchdog(watchdog_);
    if (!dir.empty()) {
      auto r = run({script(), "stop", dir});
      EXPECT_EQ(r.status, 0) << r.output;
    }
  }

  static std::string script() { return source_dir() + "/scripts/rabbitmq"; }

 private:
  // A detached shell that stops the broker once this process is gone (crash, abort, timeout).
  void start_watchdog() {
    watchdog_ = dfd::test::start_watchdog("\"" + script() + "\" stop \"" + dir + "\"");
  }

  std::unique_ptr<TempDir> tmp_;
  pid_t watchdog_ = -1;
};

// ---------------------------------------------------------------------------------------------
// One plugin instance with its own fake host.
using Instance = BrokerInstance;

using ConfigMap = std::map<std::string, ConfigValue>;

inline std::string test_name() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// Defaults: this run's broker, an exchange and queue named after the test (tests stay apart).
inline ConfigMap config(ConfigMap extra = {}) {
  ConfigMap c{{"url", RabbitEnv::url},
              {"exchange", "x-" + test_name()},
              {"queue", "q-" + test_name()},
              {"reconnect_max_ms", std::int64_t{1000}}};
  for (auto& [k, v] : extra) c[k] = v;
  return c;
}

// The same over TLS: the amqps:// listener, verified with the broker's CA.
inline ConfigMap tls_config(ConfigMap extra = {}) {
  ConfigMap c = config({{"url", RabbitEnv::amqps_url}, {"ca_file", RabbitEnv::ca_file}});
  for (auto& [k, v] : extra) c[k] = v;
  return c;
}

// "amqps://USER:PASSWORD@127.0.0.1:PORT/" on this run's broker.
inline std::string amqps_url_for(const std::string& user, const std::string& password) {
  return "amqps://" + user + ":" + password +
         "@127.0.0.1:" + std::to_string(RabbitEnv::amqps_port) + "/";
}

inline Result<Instance> make(ConfigMap cfg, bool start = true) {
  Instance i;
  i.host = std::make_unique<FakeHost>(std::move(cfg), "broker-rabbitmq");
  i.host->mutable_server().id = "server-" + test_name();
  auto p = load_plugin("broker-rabbitmq", *i.host, start);
  if (!p.ok()) return p.status();
  i.plugin = std::move(*p);
  i.broker = i.plugin.as<Broker>();
  return i;
}

#define MAKE_OR_FAIL(var, cfg)                               \
  auto var##_r = make(cfg);                                  \
  ASSERT_TRUE(var##_r.ok()) << var##_r.status().to_string(); \
  Instance var = std::move(*var##_r)

template <typename Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout) {
  auto end = RabbitClock::now() + timeout;
  while (RabbitClock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return p();
}

inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(RabbitClock::now() - t).count();
}

// How often `what` occurs in `text` (log lines).
inline int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// rabbitmqctl ARGS against this binary's broker (scripts/rabbitmq ctl).
inline RunResult rabbitmqctl(std::vector<std::string> args) {
  std::vector<std::string> argv{RabbitEnv::script(), "ctl", RabbitEnv::dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

}  // namespace dfd::test
