// broker-local: the Broker interface inside one process, for an all-in-one host (info server and
// file server in the same dfd-host). No durability: events live in memory until delivered.
//
// publish() copies the event into the ordered queue of every matching subscription and returns
// Ok at once (there is no broker to confirm). Each subscription has its own dispatcher thread that
// calls the handler one event at a time, in publish order; a handler error retries the same event
// after a delay (50 ms doubling to 1 s), so later events wait behind it (order is kept).
//
// Thread-safety: publish, subscribe, connected and health are safe from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dfd/broker.hpp"
#include "dfd/log_throttle.hpp"

namespace dfd::broker_local {

class LocalBroker final : public Broker {
 public:
  explicit LocalBroker(HostServices& host);
  ~LocalBroker() override;

  Status init();
  Status start() noexcept override;
  void stop() noexcept override;
  Health health() const noexcept override;

  Status publish(std::string_view routing_key, std::string_view body,
                 std::chrono::milliseconds timeout) noexcept override;
  Status subscribe(std::vector<std::string> binding_keys, EventHandler handler) noexcept override;
  bool connected() const noexcept override { return true; }

 private:
  struct Event {
    std::string key, body;
  };
  struct Subscription {
    std::vector<std::string> keys;
    EventHandler handler;
    std::mutex mu;  // guards queue and stopping
    std::condition_variable cv;
    std::deque<Event> queue;
    bool stopping = false;
    std::thread thread;
    LogThrottle rejection_log{std::chrono::minutes(1), 5};  // this thread only
  };

  void run(Subscription& s);
  void launch(Subscription& s);

  HostServices& host_;
  Counter& published_;
  Counter& consumed_;
  Counter& failures_;
  Counter& rejected_;
  Gauge& connected_gauge_;

  mutable std::mutex mu_;  // guards subs_ and started_
  std::vector<std::shared_ptr<Subscription>> subs_;
  bool started_ = false;
};

}  // namespace dfd::broker_local
