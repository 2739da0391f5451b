// info-core: GET /v1/files, GET /v1/files/{id} (the manifest) and GET /v1/servers (docs/api.md).
#include "api_json.hpp"
#include "dfd/wire/manifest.hpp"
#include "info_server.hpp"

namespace dfd::info {

namespace {
using json = nlohmann::json;
}  // namespace

void InfoServer::list_files(const HttpRequest& q, HttpResponse& r) {
  if (!authenticate(q, r)) return;
  std::uint64_t limit = 0, offset = 0;
  if (!page_params(q, r, limit, offset)) return;
  FilePage page = catalog_->list(limit, offset, now_ms(), heartbeat_timeout_ms_);
  std::string body;
  wire::append_file_list_begin(body);
  for (std::size_t i = 0; i < page.files.size(); ++i)
    wire::append_file_list_row(body, i == 0, page.files[i].file->list_json,
                               page.files[i].available);
  wire::append_file_list_end(body, page.total);
  r.status = 200;
  r.body = std::move(body);
}

void InfoServer::manifest(const HttpRequest& q, HttpResponse& r) {
  auto user = authenticate(q, r);
  if (!user) return;
  auto id = id_param(q, "id");
  if (!id) {
    set_json_error(r, 400, "invalid_argument", "the file id must be a positive integer");
    return;
  }
  // Each manifest costs a token, a database write and a broker event: per-user rate limit.
  if (std::int64_t wait = manifest_limiter_->take(user->id, host_.clock().steady_now()); wait > 0) {
    manifests_limited_.add();
    rate_limited(r, "too many manifests for this user (manifests_per_minute)", wait);
    return;
  }
  auto file = catalog_->find(*id);
  if (!file) {
    set_json_error(r, 404, "not_found", "no file with id " + std::to_string(*id));
    return;
  }
  std::string zone;
  if (auto z = q.query.find("zone"); z != q.query.end()) zone = z->second;
  auto locations = catalog_->live_locations(file->uid, zone, now_ms(), heartbeat_timeout_ms_);
  if (locations.empty()) {
    set_json_error(r, 503, "unavailable",
                   "no file server holding file " + std::to_string(*id) + " is live right now");
    r.headers.emplace_back("Retry-After", "5");
    return;
  }

  const bool announce = dl_auth_->needs_token_events();
  // Tell the announcer a record is coming, so it groups this request with the current wave.
  TokenAnnouncer::Arrival arrival =
      announce ? TokenAnnouncer::Arrival(*announcer_) : TokenAnnouncer::Arrival();
  DownloadTokenRecord record;
  auto token = dl_auth_->issue_download_token(file->uid, user->id, token_ttl_, &record);
  if (!token.ok()) {
    log_.error("issue_download_token: " + token.status().to_string());
    set_error(r, token.status());
    return;
  }
  if (announce) {
    // Never hand out a token that no file server can learn: answer only after the broker
    // confirmed the event; otherwise withdraw the token. Concurrent manifests share one event.
    Status st = announcer_->announce(record, confirm_timeout_, &arrival);
    if (!st.ok()) {
      Status rv = dl_auth_->revoke_download_token(record.token_hash);
      if (!rv.ok()) log_.error("revoke_download_token: " + rv.to_string());
      token_failures_.add();
      log_.warn("token.issued for file " + std::to_string(*id) +
                " was not confirmed: " + st.to_string());
      set_json_error(r, 503, "unavailable",
                     "the event broker did not confirm the download token; retry shortly");
      r.headers.emplace_back("Retry-After", "1");
      return;
    }
  }
  tokens_issued_.add();
  issued_rate_.add(steady_s());
  if (audit_.enabled()) {  // the hot path: no JSON built when the log is off
    audit("manifest", json{{"user_id", user->id},
                           {"file_id", *id},
                           {"uid", file->uid},
                           {"zone", zone},
                           {"address", client_of(q)}});
  }

  std::string body;
  body.reserve(file->manifest_json.size() + 256 + locations.size() * 128);
  body += file->manifest_json;  // rendered once per file by the wire encoder (render())
  wire::append_manifest_tail(body, locations, token->token, format_rfc3339(token->expires_at));
  r.status = 200;
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = std::move(body);
}

void InfoServer::list_servers(const HttpRequest& q, HttpResponse& r) {
  if (!authenticate(q, r)) return;
  const std::int64_t now = now_ms();
  json list = json::array();
  std::size_t live = 0;
  for (const auto& s : catalog_->servers()) {
    bool healthy = now - s.last_heartbeat_ms <= heartbeat_timeout_ms_;
    live += healthy ? 1 : 0;
    list.push_back(
        json{{"server_id", s.server_id},
             {"zone", s.zone},
             {"url", s.url},
             {"healthy", healthy},
             {"last_heartbeat",
              format_rfc3339(TimePoint(std::chrono::milliseconds(s.last_heartbeat_ms)))},
             {"last_heartbeat_age_ms", std::max<std::int64_t>(0, now - s.last_heartbeat_ms)},
             {"interval_ms", s.interval_ms},
             {"files", s.files}});
  }
  live_servers_.set(static_cast<double>(live));
  r.status = 200;
  r.body = dump(json{{"servers", list}});
}

}  // namespace dfd::info
