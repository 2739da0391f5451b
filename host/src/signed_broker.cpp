#include "signed_broker.hpp"

#include <mutex>

#include "dfd/log_throttle.hpp"

namespace dfd::host {
using events::Rejection;

namespace {

constexpr Rejection kReasons[] = {Rejection::kUnsigned,   Rejection::kBadSignature,
                                  Rejection::kUnknownKey, Rejection::kStale,
                                  Rejection::kReplayed,   Rejection::kWrongSender};

// A routing key fit for a log line: printable ASCII, at most 128 bytes.
std::string printable_key(std::string_view key) {
  std::string out(key.substr(0, 128));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

struct SignedBroker::Shared {
  Shared(events::Signer s, std::string dir, std::shared_ptr<const events::TrustedKeys> t,
         std::chrono::seconds age, Logger& l, Metrics& m, const Clock& c)
      : signer(std::move(s)),
        trusted_dir(std::move(dir)),
        trusted(std::move(t)),
        max_age(age),
        log(l),
        clock(c),
        published(m.counter("dfd_events_signed_total", "Events this host signed and published")),
        verified(m.counter("dfd_events_verified_total",
                           "Events whose signature, sender, time and id checked out")) {
    for (Rejection r : kReasons) {
      rejected[static_cast<int>(r)] =
          &m.counter("dfd_events_rejected_total",
                     "Events refused before reaching a handler (signature, sender, time, replay)",
                     {{"reason", events::rejection_name(r)}});
    }
  }

  std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  }

  Status refuse(std::string_view key, const events::Verifier::Verdict& v) {
    rejected[static_cast<int>(v.reason)]->add();
    std::string why =
        std::string(v.reason == Rejection::kReplayed ? "event dropped: " : "event refused: ") +
        events::rejection_name(v.reason);
    if (!v.envelope.sender.empty()) {
      why += " (sender '" + std::string(v.envelope.sender) + "', key " +
             std::string(v.envelope.key_id) + ")";
    }
    std::uint64_t held_back = 0;
    bool write;
    {
      std::lock_guard<std::mutex> g(log_mu);
      write = throttle.allow(LogThrottle::Clock::now(), held_back);
    }
    if (write) {
      log.warn(why + " on '" + printable_key(key) + "'" +
               (held_back ? " (" + std::to_string(held_back) + " more not logged)" : ""));
    }
    // A duplicate of an applied event is acknowledged (dropped): RabbitMQ redelivers an applied
    // event whose ack was lost, and that must not end in a dead-letter queue.
    if (v.reason == Rejection::kReplayed) return Status::Ok();
    return Status::InvalidArgument(why);
  }

  events::Signer signer;
  std::string trusted_dir;
  std::mutex keys_mu;  // guards trusted and verifiers
  std::shared_ptr<const events::TrustedKeys> trusted;
  std::vector<std::shared_ptr<events::Verifier>> verifiers;
  std::chrono::seconds max_age;
  Logger& log;
  const Clock& clock;
  Counter& published;
  Counter& verified;
  Counter* rejected[static_cast<int>(Rejection::kWrongSender) + 1] = {};
  std::mutex log_mu;
  LogThrottle throttle{std::chrono::minutes(1), 5};
};

SignedBroker::SignedBroker(Broker& inner, events::Signer signer, std::string trusted_dir,
                           std::shared_ptr<const events::TrustedKeys> trusted,
                           std::chrono::seconds max_age, Logger& log, Metrics& metrics,
                           const Clock& clock)
    : inner_(inner),
      shared_(std::make_shared<Shared>(std::move(signer), std::move(trusted_dir),
                                       std::move(trusted), max_age, log, metrics, clock)) {}

SignedBroker::~SignedBroker() = default;

const std::string& SignedBroker::key_id() const {
  return shared_->signer.key_id();
}

Status SignedBroker::publish(std::string_view routing_key, std::string_view body,
                             std::chrono::milliseconds timeout) noexcept {
  return guard("signed publish", [&]() -> Status {
    auto sealed = shared_->signer.seal(routing_key, body, shared_->now());
    if (!sealed.ok()) return sealed.status();
    DFD_RETURN_IF_ERROR(inner_.publish(routing_key, *sealed, timeout));
    shared_->published.add();
    return Status::Ok();
  });
}

Status SignedBroker::subscribe(std::vector<std::string> binding_keys,
                               EventHandler handler) noexcept {
  return guard("signed subscribe", [&]() -> Status {
    std::shared_ptr<events::Verifier> verifier;
    {
      std::lock_guard<std::mutex> g(shared_->keys_mu);
      verifier = std::make_shared<events::Verifier>(shared_->trusted, shared_->max_age);
      shared_->verifiers.push_back(verifier);
    }
    std::shared_ptr<Shared> s = shared_;
    return inner_.subscribe(std::move(binding_keys),
                            [s, verifier, handler = std::move(handler)](
                                std::string_view key, std::string_view message) -> Status {
                              const std::int64_t now = s->now();
                              auto v = verifier->verify(key, message, now);
                              if (v.reason != Rejection::kNone) return s->refuse(key, v);
                              Status st = handler(key, v.envelope.body);
                              if (st.ok()) {
                                verifier->accepted(v.envelope, now);
                                s->verified.add();
                              }
                              return st;
                            });
  });
}

Status SignedBroker::reload_trusted_keys() {
  auto keys = events::TrustedKeys::load_dir(shared_->trusted_dir);
  if (!keys.ok()) return keys.status();
  std::lock_guard<std::mutex> g(shared_->keys_mu);
  shared_->trusted = *keys;
  for (auto& v : shared_->verifiers) v->set_keys(*keys);
  shared_->log.info("trusted_keys: " + std::to_string((*keys)->size()) + " key(s) from '" +
                    shared_->trusted_dir + "'");
  return Status::Ok();
}

}  // namespace dfd::host
