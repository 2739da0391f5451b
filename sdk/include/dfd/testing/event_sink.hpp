// dfd SDK testing: a thread-safe collector of delivered broker events (header-only), used by the
// broker conformance suite (broker_conformance.hpp) and by a broker plugin's own tests.
//
//   dfd::conformance::EventSink sink;
//   broker.subscribe({"token.*"}, sink.handler());            // records every event
//   broker.subscribe({"x.#"}, sink.handler([](auto& key, auto& body) { return body == "bad"; }));
//   sink.wait_for(1, std::chrono::seconds(5));                // true once 1 event was recorded
//
// Thread-safety: the handlers run on the broker's threads; every member is safe from any thread.
// The sink must outlive every subscription made with its handlers (stop the broker first).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dfd/broker.hpp"

namespace dfd::conformance {

class EventSink {
 public:
  // A handler that records (key, body); `fail` (optional) decides per call whether to fail
  // (kUnavailable: the broker redelivers). Every call counts in calls(), recorded or not.
  EventHandler handler(std::function<bool(const std::string&, const std::string&)> fail = {}) {
    return [this, fail](std::string_view key, std::string_view body) -> Status {
      std::string k(key), b(body);
      std::lock_guard<std::mutex> g(mu_);
      ++calls_;
      cv_.notify_all();
      if (fail && fail(k, b)) return Status::Unavailable("test handler refuses " + b);
      events_.emplace_back(std::move(k), std::move(b));
      cv_.notify_all();
      return Status::Ok();
    };
  }
  // Waits until at least `n` events were recorded; true on success.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return events_.size() >= n; });
  }
  // Waits until an event with `body` was recorded.
  bool wait_for_body(const std::string& body, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, timeout, [&] {
      for (auto& e : events_) {
        if (e.second == body) return true;
      }
      return false;
    });
  }
  // Waits until the handler was called at least `n` times (failed calls included).
  bool wait_for_calls(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return calls_ >= n; });
  }
  std::vector<std::pair<std::string, std::string>> events() const {
    std::lock_guard<std::mutex> g(mu_);
    return events_;
  }
  std::vector<std::string> keys() const {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<std::string> k;
    for (auto& e : events_) k.push_back(e.first);
    return k;
  }
  int calls() const {
    std::lock_guard<std::mutex> g(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, std::string>> events_;
  int calls_ = 0;
};

}  // namespace dfd::conformance
