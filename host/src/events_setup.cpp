#include "events_setup.hpp"

#include "logging.hpp"

namespace dfd::host {
namespace {

std::string at(const HostConfig& cfg, int line) {
  return cfg.file + ":" + std::to_string(line) + ": ";
}

}  // namespace

Result<EventSigning> setup_event_signing(const HostConfig& cfg, PluginSet& plugins,
                                         MetricsRegistry& metrics, const Clock& clock,
                                         LogLevel level) {
  const EventsOptions& e = cfg.events;
  EventSigning out;
  out.log = std::make_unique<PluginLogger>(make_logger("events", level));
  const LoadedPlugin* broker = nullptr;
  for (const auto& p : plugins.plugins()) {
    if (p->desc->kind == PluginKind::kBroker) {
      broker = p.get();
      break;
    }
  }
  if (!broker) {
    out.mode = "none";
    out.detail = "no broker plugin";
    return out;
  }
  const int where = e.line ? e.line : broker->line;
  if (!e.keys_configured()) {
    if (broker->name == "broker-local") {
      out.mode = "local";
      out.detail = "in-process broker (broker-local): events never leave this process";
      return out;
    }
    if (!e.allow_unsigned) {
      return Status::FailedPrecondition(
          at(cfg, where) + "[events]: the broker plugin '" + broker->name +
          "' carries events between hosts, and anyone with a broker login could forge them: set "
          "[events] signing_key and trusted_keys (make keys with `dfd-host keygen`), or "
          "allow_unsigned = true to run without signatures");
    }
    out.mode = "unsigned";
    out.detail =
        "events are UNSIGNED ([events] allow_unsigned = true): anyone with a broker "
        "login can mint download tokens or announce servers";
    out.log->warn(out.detail);
    return out;
  }
  if (e.signing_key.empty()) {
    return Status::FailedPrecondition(
        at(cfg, e.signing_key_line) +
        "[events] key 'signing_key': missing; this host publishes events and must sign them "
        "(trusted_keys is set)");
  }
  if (e.trusted_keys.empty()) {
    return Status::FailedPrecondition(
        at(cfg, e.trusted_keys_line) +
        "[events] key 'trusted_keys': missing; without it every event this host receives is "
        "refused (signing_key is set)");
  }
  auto signer = events::Signer::load(e.signing_key, cfg.server.id);
  if (!signer.ok()) {
    return Status::InvalidArgument(at(cfg, e.signing_key_line) +
                                   "[events] key 'signing_key': " + signer.status().message());
  }
  auto trusted = events::TrustedKeys::load_dir(e.trusted_keys);
  if (!trusted.ok()) {
    return Status::InvalidArgument(at(cfg, e.trusted_keys_line) +
                                   "[events] key 'trusted_keys': " + trusted.status().message());
  }
  out.mode = "signed";
  out.detail = "signed as '" + cfg.server.id + "' (key " + signer->key_id() + "), " +
               std::to_string((*trusted)->size()) + " trusted key(s), max_age_s " +
               std::to_string(e.max_age_s);
  out.broker = std::make_unique<SignedBroker>(
      *static_cast<Broker*>(broker->instance.get()), std::move(*signer), e.trusted_keys,
      std::move(*trusted), std::chrono::seconds(e.max_age_s), *out.log, metrics, clock);
  plugins.wrap(broker->instance.get(), out.broker.get());
  return out;
}

}  // namespace dfd::host
