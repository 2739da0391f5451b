// The broker plugins see only signed events: the host hands every plugin (and the file-server
// role) this wrapper instead of the loaded broker plugin, whose life cycle stays the host's.
//
//   publish(key, body)   → the body sealed with this host's key (dfd/event_signing.hpp), then the
//                          real plugin's publish;
//   subscribe(keys, h)   → h sees only events that verify: a trusted sender's key, a good
//                          signature, the sender named by a file.* / server.* routing key, a
//                          timestamp within ±max_age, an id not applied before. Anything else is
//                          refused once (kInvalidArgument: the broker plugin drops it without
//                          requeue), counted in dfd_events_rejected_total{reason} and logged
//                          (at most 5 lines a minute, never the body); a duplicate of an applied
//                          event is acknowledged instead (Ok: dropped, a redelivery after a lost
//                          ack is no error), counted as "replayed". Each subscription has its own
//                          replay cache; an id is remembered only after h returned Ok.
//
// Thread-safety: as dfd::Broker. Handlers capture shared state, not `this`: the wrapper may go
// before the plugin's consumer threads do (they stop with the plugin).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dfd/broker.hpp"
#include "dfd/event_signing.hpp"
#include "dfd/host_services.hpp"

namespace dfd::host {

class SignedBroker final : public Broker {
 public:
  SignedBroker(Broker& inner, events::Signer signer, std::string trusted_dir,
               std::shared_ptr<const events::TrustedKeys> trusted, std::chrono::seconds max_age,
               Logger& log, Metrics& metrics, const Clock& clock);
  ~SignedBroker() override;

  Status publish(std::string_view routing_key, std::string_view body,
                 std::chrono::milliseconds timeout) noexcept override;
  Status subscribe(std::vector<std::string> binding_keys, EventHandler handler) noexcept override;
  bool connected() const noexcept override { return inner_.connected(); }
  Health health() const noexcept override { return inner_.health(); }

  // Reads the trusted_keys directory again (SIGHUP); on an error the old keys stay.
  Status reload_trusted_keys();
  const std::string& key_id() const;

 private:
  struct Shared;
  Broker& inner_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace dfd::host
