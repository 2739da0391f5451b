// What the host does with [events] (docs/host.md "[events]"), after the plugins are loaded and
// before any starts:
//   - keys configured (signing_key and trusted_keys, both required then): the broker plugin is
//     wrapped in a SignedBroker that every plugin and the file-server role find instead;
//   - no keys and the broker is broker-local (one process): events stay in-process, unsigned;
//   - no keys and another broker: a config error naming [events], unless allow_unsigned = true
//     (then a warning at start and /healthz says "unsigned").
// Errors name file:line:key; a key file's content never appears in any message.
#pragma once

#include <memory>
#include <string>

#include "config.hpp"
#include "dfd/host_services.hpp"
#include "plugin_loader.hpp"
#include "signed_broker.hpp"

namespace dfd::host {

struct EventSigning {
  std::unique_ptr<Logger> log;           // the wrapper's logger ("events")
  std::unique_ptr<SignedBroker> broker;  // null: plugins see the broker plugin itself
  std::string mode;                      // for /healthz: "signed", "local", "unsigned", "none"
  std::string detail;                    // one line for /healthz and the start log
};

Result<EventSigning> setup_event_signing(const HostConfig& cfg, PluginSet& plugins,
                                         MetricsRegistry& metrics, const Clock& clock,
                                         LogLevel level);

}  // namespace dfd::host
