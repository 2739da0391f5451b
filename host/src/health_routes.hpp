// The host's built-in routes on the control plane:
//   GET /livez    200 {"status":"alive"}: the process is up and answering.
//   GET /readyz   200 {"status":"ready"} or 503 {"status":"not_ready"}: it can serve. Every
//                 plugin and the file-server role must be healthy, except that brokers count only
//                 on a host without the file-server role: a file server still verifies the tokens
//                 it already knows while the broker is away, an info server cannot issue any.
//   GET /healthz  the detailed report (plugins, details, paths) and
//   GET /metrics  Prometheus text: only for an admin (AdminGate), else 401 unauthorized.
// /livez and /readyz say nothing else, to anyone.
//
// Thread-safety: the handlers run on reactor threads; they read plugin health (thread-safe by
// contract), the metrics registry (thread-safe) and the content service pointer, which the main
// thread sets before the control plane serves and clears after it stopped.
#pragma once

#include <memory>
#include <string>

#include "dfd/host_services.hpp"
#include "metrics.hpp"
#include "plugin_loader.hpp"
#include "route_table.hpp"

namespace dfd::host {

class ContentService;

// Who may read the detailed report: every request on a listener bound to a loopback address
// (only local processes can reach it), and elsewhere a request with
// "Authorization: Bearer <[server] admin_token_file's secret>" (compared in constant time).
class AdminGate {
 public:
  AdminGate(const std::string& listen, std::string admin_token);
  bool allows(const HttpRequest& req) const;
  bool loopback_listener() const { return loopback_; }

 private:
  bool loopback_;
  std::string token_;  // empty: no admin token configured
};

// "127.0.0.1:9200", "localhost:1", "[::1]:2" → true; "0.0.0.0:9200", "10.1.2.3:1" → false.
bool is_loopback_listen(const std::string& listen);

struct HealthSources {
  const ServerIdentity& identity;
  const PluginSet& plugins;
  const std::unique_ptr<ContentService>& content;  // null without the file-server role
  bool file_server_role;
  MetricsRegistry& metrics;
  std::string events_mode;    // [events]: "signed", "local", "unsigned", "none"
  std::string events_detail;  // one line (events_setup.hpp)
};

// What /readyz answers (above): true when the host can serve. `waiting_for`, if given, gets the
// names of what is not ready, comma-separated ("broker-rabbitmq, [content]"); empty when ready.
bool host_ready(const HealthSources& sources, std::string* waiting_for = nullptr);

Status add_health_routes(RouteTable& routes, const HealthSources& sources, AdminGate gate);

}  // namespace dfd::host
