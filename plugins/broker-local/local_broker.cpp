#include "local_broker.hpp"

#include <algorithm>

#include "dfd/wire/topic.hpp"

namespace dfd::broker_local {

namespace {
constexpr std::chrono::milliseconds kRetryFirst{50};
constexpr std::chrono::milliseconds kRetryMax{1000};
}  // namespace

LocalBroker::LocalBroker(HostServices& host)
    : host_(host),
      published_(host.metrics().counter("dfd_broker_published_total",
                                        "Events accepted by the broker (confirmed)")),
      consumed_(host.metrics().counter("dfd_broker_consumed_total",
                                       "Events delivered to a handler that returned Ok")),
      failures_(host.metrics().counter("dfd_broker_publish_failures_total",
                                       "Publishes that failed or were not confirmed in time")),
      rejected_(host.metrics().counter("dfd_broker_events_rejected_total",
                                       "Events a handler called malformed (dropped, not retried)",
                                       {{"reason", "invalid"}})),
      connected_gauge_(
          host.metrics().gauge("dfd_broker_connected", "1 while the broker is connected")) {}

LocalBroker::~LocalBroker() {
  stop();
}

Status LocalBroker::init() {
  return host_.config().allow_only({});
}

Status LocalBroker::start() noexcept {
  return guard("broker-local: start", [&]() -> Status {
    std::lock_guard<std::mutex> g(mu_);
    started_ = true;
    for (auto& s : subs_) {
      {
        std::lock_guard<std::mutex> sg(s->mu);
        s->stopping = false;
      }
      launch(*s);
    }
    connected_gauge_.set(1);
    return Status::Ok();
  });
}

void LocalBroker::launch(Subscription& s) {
  if (!s.thread.joinable()) s.thread = std::thread([this, &s] { run(s); });
}

void LocalBroker::stop() noexcept {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::lock_guard<std::mutex> g(mu_);
    started_ = false;
    subs = subs_;
  }
  for (auto& s : subs) {
    {
      std::lock_guard<std::mutex> g(s->mu);
      s->stopping = true;
    }
    s->cv.notify_all();
  }
  for (auto& s : subs) {
    if (s->thread.joinable()) s->thread.join();
  }
  connected_gauge_.set(0);
}

Health LocalBroker::health() const noexcept {
  Health h;
  try {
    std::lock_guard<std::mutex> g(mu_);
    std::size_t queued = 0;
    for (auto& s : subs_) {
      std::lock_guard<std::mutex> sg(s->mu);
      queued += s->queue.size();
    }
    h.detail = "in-process; " + std::to_string(subs_.size()) + " subscriptions, " +
               std::to_string(queued) + " events queued";
  } catch (...) {
    h.detail = "in-process";
  }
  return h;
}

Status LocalBroker::publish(std::string_view routing_key, std::string_view body,
                            std::chrono::milliseconds) noexcept {
  return guard("broker-local: publish", [&]() -> Status {
    if (routing_key.empty()) {
      failures_.add();
      return Status::InvalidArgument("broker-local: empty routing key");
    }
    std::lock_guard<std::mutex> g(mu_);
    for (auto& s : subs_) {
      if (!wire::any_topic_matches(s->keys, routing_key)) continue;
      {
        std::lock_guard<std::mutex> sg(s->mu);
        s->queue.push_back(Event{std::string(routing_key), std::string(body)});
      }
      s->cv.notify_one();
    }
    published_.add();
    return Status::Ok();
  });
}

Status LocalBroker::subscribe(std::vector<std::string> binding_keys,
                              EventHandler handler) noexcept {
  return guard("broker-local: subscribe", [&]() -> Status {
    if (binding_keys.empty()) return Status::InvalidArgument("broker-local: no binding keys");
    if (!handler) return Status::InvalidArgument("broker-local: empty handler");
    for (const auto& k : binding_keys) {
      std::string why = wire::check_binding_key(k);
      if (!why.empty()) return Status::InvalidArgument("broker-local: " + why);
    }
    auto s = std::make_shared<Subscription>();
    s->keys = std::move(binding_keys);
    s->handler = std::move(handler);
    std::lock_guard<std::mutex> g(mu_);
    subs_.push_back(s);
    if (started_) launch(*s);
    return Status::Ok();
  });
}

void LocalBroker::run(Subscription& s) {
  std::unique_lock<std::mutex> lk(s.mu);
  std::chrono::milliseconds delay = kRetryFirst;
  while (true) {
    s.cv.wait(lk, [&] { return s.stopping || !s.queue.empty(); });
    if (s.stopping) return;
    Event& ev = s.queue.front();  // stays valid: only this thread pops
    lk.unlock();
    Status st =
        guard("broker-local: handler", [&]() -> Status { return s.handler(ev.key, ev.body); });
    lk.lock();
    if (st.ok()) {
      s.queue.pop_front();
      consumed_.add();
      delay = kRetryFirst;
      continue;
    }
    if (st.code() == Code::kInvalidArgument) {  // malformed: retrying cannot help
      std::uint64_t held_back = 0;
      if (s.rejection_log.allow(LogThrottle::Clock::now(), held_back)) {
        host_.logger().warn(
            "dropped a malformed '" + ev.key + "' event: " + st.message() +
            (held_back ? " (" + std::to_string(held_back) + " more not logged)" : std::string()));
      }
      rejected_.add();
      s.queue.pop_front();
      delay = kRetryFirst;
      continue;
    }
    host_.logger().warn("handler for '" + ev.key + "' failed (retry in " +
                        std::to_string(delay.count()) + " ms): " + st.to_string());
    s.cv.wait_for(lk, delay, [&] { return s.stopping; });
    delay = std::min(delay * 2, kRetryMax);
  }
}

}  // namespace dfd::broker_local

namespace {
dfd::Plugin* create(dfd::HostServices& host, dfd::Status* error) noexcept {
  return dfd::create_plugin<dfd::broker_local::LocalBroker>(host, error);
}
void destroy(dfd::Plugin* p) noexcept {
  dfd::destroy_plugin<dfd::broker_local::LocalBroker>(p);
}
}  // namespace

DFD_PLUGIN(dfd::PluginKind::kBroker, "broker-local", "1.0.0",
           "In-process event broker for an all-in-one host (ordered, retried, not durable)",
           nullptr, 0, &create, &destroy)
