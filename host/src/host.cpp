#include "host.hpp"

#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "config.hpp"
#include "content/content_service.hpp"
#include "control_plane.hpp"
#include "events_setup.hpp"
#include "health_routes.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "plugin_loader.hpp"
#include "route_table.hpp"
#include "service_notify.hpp"
#include "state_dir_check.hpp"

#ifndef DFD_VERSION
#define DFD_VERSION "0.0.0"
#endif

namespace dfd::host {
namespace fs = std::filesystem;

void block_host_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A peer that goes away must not kill the process; writes report EPIPE instead.
  signal(SIGPIPE, SIG_IGN);
}

namespace {

int fail(const std::string& message, int code = 1) {
  std::cerr << "dfd-host: " << message << std::endl;
  return code;
}

struct ContentPlugins {
  Storage* storage = nullptr;
  Auth* auth = nullptr;
  Digest* digest = nullptr;
  Broker* broker = nullptr;
};

Result<ContentPlugins> find_content_plugins(const HostConfig& cfg, const PluginSet& set,
                                            const ContentOptions& options) {
  ContentPlugins c;
  c.storage = static_cast<Storage*>(set.find(PluginKind::kStorage));
  c.auth = static_cast<Auth*>(set.find(PluginKind::kAuth, options.auth));
  if (!options.auth.empty() && !c.auth) {
    int line = static_cast<int>(cfg.content->source().begin.line);
    return Status::FailedPrecondition(cfg.file + ":" + std::to_string(line) +
                                      ": [content] key 'auth': no auth plugin named '" +
                                      options.auth + "' is listed");
  }
  c.digest = static_cast<Digest*>(set.find(PluginKind::kDigest));
  c.broker = static_cast<Broker*>(set.find(PluginKind::kBroker));
  std::string missing;
  if (!c.storage) missing += " storage";
  if (!c.auth) missing += " auth";
  if (!c.digest) missing += " digest";
  if (!missing.empty()) {
    int line = static_cast<int>(cfg.content->source().begin.line);
    return Status::FailedPrecondition(cfg.file + ":" + std::to_string(line) +
                                      ": [content] needs a storage, an auth and a digest plugin; "
                                      "missing:" +
                                      missing);
  }
  // Issue 14 (config honesty): what the data plane would refuse at start, refused here, so that
  // --check (which stops before start) reports it with file:line too.
  std::string digest_name = "the digest plugin";
  for (const auto& p : set.plugins()) {
    if (p->instance.get() == c.digest) digest_name = p->name;
  }
  DFD_RETURN_IF_ERROR(
      check_content_digest(options, *c.digest, digest_name, *cfg.content, cfg.file));
  DFD_RETURN_IF_ERROR(check_content_paths(options, cfg.server.state_dir, *cfg.content, cfg.file));
  return c;
}

// `content`: the parsed [content] options (null without the file-server role); a data plane
// serving TLS is advertised as https://.
std::string public_url_for(const HostConfig& cfg, const ContentOptions* content) {
  if (!cfg.server.public_url.empty()) return cfg.server.public_url;
  if (content) {
    if (!content->public_url.empty()) return content->public_url;
    if (cfg.content->get("listen")) return content->url_at(content->listen);
  }
  return std::string(cfg.server.tls_cert.empty() ? "http" : "https") + "://" + cfg.server.listen;
}

// Waits for SIGINT/SIGTERM and returns the terminating signal. SIGHUP calls `on_hup`, which
// reloads and returns a rescan ticket (0: nothing left running). Issue 14 (systemd): meanwhile it
// tells the service manager (service_notify.hpp) READY=1 the first time `ready(&waiting_for)`
// holds (what /readyz answers; until then STATUS names what is not ready), and around a SIGHUP
// RELOADING=1, then READY=1 once `rescan_finished(ticket)`. While either is pending it looks
// every 100 ms; otherwise, and always when no service manager listens, it sleeps in sigwait.
template <typename Ready, typename Hup, typename Finished>
int wait_for_termination(spdlog::logger& log, ServiceNotifier& notifier, const std::string& serving,
                         Ready&& ready, Hup&& on_hup, Finished&& rescan_finished) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  bool announced = false;     // READY=1 sent
  std::string waiting = "-";  // what STATUS last said was not ready
  std::uint64_t reload = 0;   // the ticket of a SIGHUP rescan READY=1 waits for
  // Without a service manager (no NOTIFY_SOCKET) there is nobody to tell: no readiness polling
  // (health() may ping a database), only sigwait.
  const bool notifying = notifier.enabled();
  for (;;) {
    if (notifying && !announced) {
      std::string now;
      if (ready(&now)) {
        announced = true;
        notifier.ready(serving);
      } else if (now != waiting) {
        waiting = now;
        notifier.status("started, not ready yet; waiting for: " + now);
      }
    }
    if (reload != 0 && rescan_finished(reload)) {
      reload = 0;
      notifier.ready(serving);
    }
    int sig = 0;
    if (notifying && (!announced || reload != 0)) {
      timespec tick{0, 100 * 1000 * 1000};
      sig = sigtimedwait(&set, nullptr, &tick);
      if (sig < 0) continue;  // the tick passed (EAGAIN) or EINTR
    } else if (sigwait(&set, &sig) != 0) {
      continue;
    }
    if (sig == SIGHUP) {
      log.info("SIGHUP: rescanning");
      if (announced) notifier.reloading("SIGHUP: rescanning the storage, re-reading trusted keys");
      std::uint64_t ticket = on_hup();
      if (announced) {
        reload = ticket;
        if (reload == 0) notifier.ready(serving);
      }
      continue;
    }
    return sig;
  }
}

// Exits the process (status 3) if shutdown takes longer than `limit`. Signals stay blocked in its
// thread (inherited mask).
class ShutdownWatchdog {
 public:
  ShutdownWatchdog(std::shared_ptr<spdlog::logger> log, std::chrono::milliseconds limit)
      : thread_([this, log, limit] {
          std::unique_lock<std::mutex> lock(mu_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            log->error("shutdown did not finish within {} ms; exiting", limit.count());
            std::_Exit(3);
          }
        }) {}
  ~ShutdownWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the members it uses exist
};

}  // namespace

int run_host(const HostOptions& options) {
  auto cfg_or = load_host_config(options.config_path);
  if (!cfg_or.ok()) return fail(cfg_or.status().message(), 2);
  HostConfig cfg = std::move(cfg_or).value();
  LogLevel level = options.log_level.value_or(cfg.server.log_level);
  auto log = make_logger("dfd-host", level);

  std::optional<ContentOptions> content_options;
  if (cfg.content) {
    auto co = parse_content_options(*cfg.content, cfg.file);
    if (!co.ok()) return fail(co.status().message());
    content_options = std::move(co).value();
    if (Status st = resolve_content_tls(*content_options, cfg.server.tls_cert, cfg.server.tls_key,
                                        *cfg.content, cfg.file);
        !st.ok()) {
      return fail(st.message());
    }
  }
  // [content] public_url unset: [server] public_url, else the bound data-plane address.
  if (content_options && content_options->public_url.empty()) {
    content_options->public_url = cfg.server.public_url;
  }
  ServerIdentity identity{cfg.server.id, cfg.server.zone,
                          public_url_for(cfg, content_options ? &*content_options : nullptr),
                          cfg.server.state_dir};
  // Issue 14: --check has no side effects; the state_dir is made at start only (plugins check
  // their paths below it without creating anything).
  if (!options.check) {
    std::error_code ec;
    fs::create_directories(identity.state_dir, ec);
    if (ec || !fs::is_directory(identity.state_dir)) {
      return fail(cfg.file + ": [server] state_dir '" + identity.state_dir +
                  "': cannot create: " + ec.message());
    }
  }
  if (Status st = check_state_paths(cfg); !st.ok()) return fail(st.message());

  MetricsRegistry metrics;
  RealClock clock;
  RouteTable routes;
  SharedServices shared{metrics, clock, identity, routes, level};
  // The signed broker wrapper outlives the plugins that found it (declared before them).
  EventSigning event_signing;
  PluginSet plugins(shared, log);
  // Route handlers are code in plugin libraries: drop them before the plugins unload (declared
  // after `plugins`, so this runs first on every return path).
  struct RouteReset {
    RouteTable& table;
    ~RouteReset() { table.clear(); }
  } route_reset{routes};
  if (Status st = plugins.load(cfg); !st.ok()) return fail(st.message());
  {
    auto es = setup_event_signing(cfg, plugins, metrics, clock, level);
    if (!es.ok()) return fail(es.status().message(), 2);
    event_signing = std::move(es).value();
  }

  ContentPlugins content_plugins;
  if (cfg.content) {
    auto cp = find_content_plugins(cfg, plugins, *content_options);
    if (!cp.ok()) return fail(cp.status().message());
    content_plugins = *cp;
  }
  // Issue 14: the plugins' own cross-plugin checks, before --check reports and before any start.
  if (Status st = plugins.check_all(cfg); !st.ok()) return fail(st.message());

  if (options.check) {
    for (const auto& p : plugins.plugins()) {
      std::printf("%-20s %-10s %-8s %s\n", p->name.c_str(), p->desc->version,
                  kind_name(p->desc->kind), p->file.c_str());
      // Issue 15: a plugin of another ABI minor, and what an older one lacks.
      if (std::string abi = describe_abi(*p->desc); !abi.empty()) {
        std::printf("  %s\n", abi.c_str());
        for (const auto& m : describe_missing_abilities(*p->desc)) {
          std::printf("  lacks: %s\n", m.c_str());
        }
      }
    }
    if (cfg.content) std::printf("[content] file server role enabled\n");
    std::printf("[events] %s\n", event_signing.detail.c_str());
    std::printf("config OK\n");
    std::fflush(stdout);
    return 0;
  }

  ControlPlane control(cfg.server, routes, metrics, log);
  if (Status st = control.bind(); !st.ok()) return fail(st.message());

  // content_log outlives content (declared first): the service logs until it is destroyed.
  PluginLogger content_log(make_logger("content", level));
  std::unique_ptr<ContentService> content;

  // Built-in routes.
  HealthSources health{identity,
                       plugins,
                       content,
                       cfg.content != nullptr,
                       metrics,
                       event_signing.mode,
                       event_signing.detail};
  if (Status st =
          add_health_routes(routes, health, AdminGate(cfg.server.listen, cfg.server.admin_token));
      !st.ok()) {
    return fail(st.message());
  }
  metrics.gauge("dfd_build_info", "dfd-host version", {{"version", DFD_VERSION}}).set(1);
  metrics.gauge("dfd_plugins_loaded", "Plugins loaded by this host")
      .set(static_cast<double>(plugins.plugins().size()));

  if (Status st = plugins.start_all(); !st.ok()) return fail(st.message());

  if (cfg.content) {
    ContentContext ctx{content_log,
                       metrics,
                       clock,
                       identity,
                       *content_plugins.storage,
                       *content_plugins.auth,
                       *content_plugins.digest,
                       content_plugins.broker};
    content = std::make_unique<ContentService>(ctx, *content_options);
    if (Status st = content->start(); !st.ok()) {
      content.reset();
      plugins.stop_all();
      return fail("[content] cannot start: " + st.to_string());
    }
    log->info("file server role: data plane on {} ({})", content->bound_address(),
              content->public_url());
  }

  if (Status st = control.serve(); !st.ok()) {
    if (content) content->stop(0);
    plugins.stop_all();
    return fail(st.message());
  }
  log->info("dfd-host {} server '{}' zone '{}': control plane on {}://127.0.0.1:{} ({} plugins)",
            DFD_VERSION, identity.id, identity.zone, control.scheme(), control.port(),
            plugins.plugins().size());

  // Issue 14 (systemd): Type=notify readiness, reload and stop notifications.
  auto notifier = ServiceNotifier::from_environment(log);
  std::string serving = std::string("serving: control plane on ") + control.scheme() + " port " +
                        std::to_string(control.port()) +
                        (content ? ", data plane at " + content->public_url() : std::string());
  int sig = wait_for_termination(
      *log, *notifier, serving,
      [&](std::string* waiting_for) { return host_ready(health, waiting_for); },
      [&]() -> std::uint64_t {
        std::uint64_t ticket = content ? content->request_rescan() : 0;
        if (event_signing.broker) {
          if (Status st = event_signing.broker->reload_trusted_keys(); !st.ok()) {
            log->error("[events] trusted_keys not reloaded (the old keys stay): {}", st.message());
          }
        }
        return ticket;
      },
      [&](std::uint64_t ticket) { return !content || content->rescan_finished(ticket); });
  const char* sig_name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  notifier->stopping(std::string(sig_name) + ": shutting down");
  auto grace = std::chrono::milliseconds(cfg.server.shutdown_grace_ms);
  log->info("{}: shutting down (grace {} ms)", sig_name, grace.count());
  // A stuck handler or plugin must not keep the process alive for ever: after two grace periods
  // plus 10 s the watchdog gives up and exits with status 3.
  ShutdownWatchdog watchdog(log, 2 * grace + std::chrono::seconds(10));
  int left = control.drain(grace);
  if (left > 0) log->warn("grace period over with {} request(s) still in flight", left);
  control.shutdown();
  if (content) {
    content->stop(cfg.server.shutdown_grace_ms);
    content.reset();
  }
  plugins.stop_all();
  routes.clear();
  plugins.unload();
  log->info("stopped");
  return 0;
}

}  // namespace dfd::host
