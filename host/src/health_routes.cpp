#include "health_routes.hpp"

#include <nlohmann/json.hpp>

#include "content/content_service.hpp"
#include "process_metrics.hpp"

namespace dfd::host {

bool is_loopback_listen(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]" || host == "::1";
}

AdminGate::AdminGate(const std::string& listen, std::string admin_token)
    : loopback_(is_loopback_listen(listen)), token_(std::move(admin_token)) {}

bool AdminGate::allows(const HttpRequest& req) const {
  if (loopback_) return true;
  if (token_.empty()) return false;
  const std::string given = req.bearer();
  // Constant time in the secret's content: every byte of the longer input is looked at.
  unsigned char diff = given.size() == token_.size() ? 0 : 1;
  std::size_t n = std::max(given.size(), token_.size());
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    unsigned char b = i < token_.size() ? static_cast<unsigned char>(token_[i]) : 0;
    diff = static_cast<unsigned char>(diff | (a ^ b));
  }
  return diff == 0;
}

namespace {

void deny(HttpResponse& r) {
  set_json_error(r, 401, "unauthorized",
                 "this report needs the admin token (Authorization: Bearer) on a listener not "
                 "bound to loopback; /livez and /readyz are open");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
}

}  // namespace

bool host_ready(const HealthSources& s, std::string* waiting_for) {
  std::string waiting;
  for (const auto& p : s.plugins.plugins()) {
    bool counts = p->desc->kind != PluginKind::kBroker || !s.file_server_role;
    if (counts && !p->instance->health().healthy)
      waiting += (waiting.empty() ? "" : ", ") + p->name;
  }
  if (s.file_server_role && (!s.content || !s.content->health().healthy)) {
    waiting += waiting.empty() ? "[content]" : ", [content]";
  }
  if (waiting_for) *waiting_for = waiting;
  return waiting.empty();
}

Status add_health_routes(RouteTable& routes, const HealthSources& s, AdminGate gate) {
  auto livez = [](const HttpRequest&, HttpResponse& r) { r.body = R"({"status":"alive"})"; };
  auto readyz = [s](const HttpRequest&, HttpResponse& r) {
    bool ready = host_ready(s);
    r.status = ready ? 200 : 503;
    r.body = ready ? R"({"status":"ready"})" : R"({"status":"not_ready"})";
  };
  auto healthz = [s, gate](const HttpRequest& req, HttpResponse& r) {
    if (!gate.allows(req)) return deny(r);
    nlohmann::json j;
    bool healthy = true;
    j["server"] = {{"id", s.identity.id}, {"zone", s.identity.zone}};
    j["plugins"] = nlohmann::json::array();
    for (const auto& p : s.plugins.plugins()) {
      Health h = p->instance->health();
      healthy = healthy && h.healthy;
      j["plugins"].push_back({{"name", p->name},
                              {"kind", kind_name(p->desc->kind)},
                              {"version", p->desc->version},
                              {"abi", abi_version(p->desc->abi_major, p->desc->abi_minor)},
                              {"healthy", h.healthy},
                              {"detail", h.detail}});
    }
    if (s.content) {
      Health h = s.content->health();
      healthy = healthy && h.healthy;
      j["content"] = {
          {"healthy", h.healthy}, {"detail", h.detail}, {"url", s.content->public_url()}};
    }
    j["events"] = {{"mode", s.events_mode}, {"detail", s.events_detail}};
    j["status"] = healthy ? "ok" : "unhealthy";
    r.status = healthy ? 200 : 503;
    r.body = j.dump();
  };
  auto metrics = [s, gate](const HttpRequest& req, HttpResponse& r) {
    if (!gate.allows(req)) return deny(r);
    r.content_type = "text/plain; version=0.0.4";
    r.body = s.metrics.render_prometheus() + render_process_metrics();  // issue 14: process_*
  };
  DFD_RETURN_IF_ERROR(routes.add("GET", "/livez", livez));
  DFD_RETURN_IF_ERROR(routes.add("GET", "/readyz", readyz));
  DFD_RETURN_IF_ERROR(routes.add("GET", "/healthz", healthz));
  return routes.add("GET", "/metrics", metrics);
}

}  // namespace dfd::host
