// info-core: the status page's data (docs/api.md, "Status"; docs/status-page.md), admin only and
// bounded: GET /v1/status/files (files with every location, live or not), GET /v1/status/tokens
// (download tokens issued: totals and the last minute per second), GET /v1/status/audit (the
// newest audit log lines, from a bounded read of the file's end).
#include "api_json.hpp"
#include "audit_tail.hpp"
#include "info_server.hpp"

namespace dfd::info {

namespace {
using json = nlohmann::json;

// How much of the audit log's end GET /v1/status/audit reads, and how many entries it returns.
constexpr std::size_t kAuditTailBytes = 256 * 1024;
constexpr std::uint64_t kAuditMaxEntries = 200;
constexpr std::uint64_t kAuditDefaultEntries = 50;
constexpr std::size_t kMaxEventName = 40;

std::string rfc3339_ms(std::int64_t unix_ms) {
  return format_rfc3339(TimePoint(std::chrono::milliseconds(unix_ms)));
}

// `event`: empty, or a name like the audit log's ("manifest", "login_failed").
bool event_name_ok(const std::string& event) {
  if (event.size() > kMaxEventName) return false;
  for (char c : event) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}
}  // namespace

void InfoServer::status_files(const HttpRequest& q, HttpResponse& r) {
  if (!authenticate_admin(q, r, "see the status data")) return;
  std::uint64_t limit = 0, offset = 0;
  if (!page_params(q, r, limit, offset)) return;
  const std::int64_t now = now_ms();
  FilePage page = catalog_->list(limit, offset, now, heartbeat_timeout_ms_);
  json files = json::array();
  for (const auto& e : page.files) {
    const CatalogFile& f = *e.file;
    json locations = json::array();
    for (const FileLocation& l : catalog_->locations(f.uid, now, heartbeat_timeout_ms_)) {
      locations.push_back(json{{"server_id", l.server_id},
                               {"zone", l.zone},
                               {"url", l.url},
                               {"healthy", l.healthy},
                               {"last_seen", rfc3339_ms(l.last_seen_ms)}});
    }
    files.push_back(json{{"id", f.id},
                         {"uid", f.uid},
                         {"name", f.name},
                         {"size", f.size},
                         {"digest", json{{"alg", f.alg}, {"value", f.uid}}},
                         {"available", e.available},
                         {"locations", std::move(locations)}});
  }
  r.status = 200;
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = dump(json{{"files", std::move(files)}, {"total", page.total}});
}

void InfoServer::status_tokens(const HttpRequest& q, HttpResponse& r) {
  if (!authenticate_admin(q, r, "see the status data")) return;
  const std::vector<std::uint64_t> series = issued_rate_.series(steady_s());
  std::uint64_t minute = 0, last10 = 0;
  for (std::size_t i = 0; i < series.size(); ++i) {
    minute += series[i];
    if (i + 10 >= series.size()) last10 += series[i];
  }
  const auto window = static_cast<double>(RateWindow::kSeconds);
  r.status = 200;
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = dump(
      json{{"tokens_issued_total", static_cast<std::uint64_t>(tokens_issued_.value())},
           {"token_publish_failures_total", static_cast<std::uint64_t>(token_failures_.value())},
           {"manifests_rate_limited_total", static_cast<std::uint64_t>(manifests_limited_.value())},
           {"window_s", RateWindow::kSeconds},
           {"issued_last_60s", minute},
           {"issued_last_10s", last10},
           {"per_second_60s", static_cast<double>(minute) / window},
           {"per_second_10s", static_cast<double>(last10) / 10.0},
           {"per_second_series", series}});
}

void InfoServer::status_audit(const HttpRequest& q, HttpResponse& r) {
  if (!authenticate_admin(q, r, "see the status data")) return;
  std::uint64_t limit = kAuditDefaultEntries;
  if (auto it = q.query.find("limit"); it != q.query.end()) {
    if (!parse_uint(it->second, kAuditMaxEntries, limit) || limit == 0) {
      set_json_error(r, 400, "invalid_argument",
                     "'limit' must be an integer from 1 to " + std::to_string(kAuditMaxEntries));
      return;
    }
  }
  std::string event;
  if (auto it = q.query.find("event"); it != q.query.end()) event = it->second;
  if (!event_name_ok(event)) {
    set_json_error(r, 400, "invalid_argument",
                   "'event' must be an audit event name (lower-case letters and '_')");
    return;
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  json body{{"enabled", !audit_path_.empty()}, {"entries", json::array()}};
  if (audit_path_.empty()) {
    r.status = 200;
    r.body = dump(body);
    return;
  }
  auto tail = read_audit_tail(audit_path_, kAuditTailBytes, limit, event);
  if (!tail.ok() && tail.status().code() != Code::kNotFound) {
    log_.error("GET /v1/status/audit: " + tail.status().to_string());
    set_error(r, Status::Internal("cannot read the audit log"));
    return;
  }
  if (tail.ok()) {
    body["entries"] = std::move(tail->entries);
    body["file_bytes"] = tail->file_bytes;
    body["scanned_bytes"] = tail->scanned_bytes;
    body["complete"] = tail->complete;
  }
  r.status = 200;
  r.body = dump(body);
}

}  // namespace dfd::info
