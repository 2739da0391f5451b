// info-core: the information server's HTTP API (docs/api.md) over a catalog that is built from
// broker events, for every info plugin: a thin plugin (info-sqlite, info-postgres) derives from
// InfoServer and hands it its InfoStores (where the catalog and the login throttle live).
//
// The class is split by job over several files: info_server.cpp (config, lifecycle, events, the
// refresh of a shared store), catalog_routes.cpp (listing, manifests, servers),
// session_routes.cpp (login, logout), user_routes.cpp (users: add, list, me, disable, enable,
// revoke tokens), password_routes.cpp (a password change by an admin or by the user),
// status_routes.cpp (the status page's data: files with locations, token rate, audit tail; the
// page itself: status_page.hpp).
//
// Threading: HTTP handlers run concurrently on the host's HTTP threads; event handlers run on the
// broker's thread. Both reach the plugin only through a Gate that stop() closes, so nothing of
// this plugin runs after stop() returned even if the host or the broker still holds a handler.
// With a shared store, one refresh thread (started last in start(), joined first in stop())
// merges the store into the catalog and runs the stores' upkeep.
// Members set in init()/start() are read-only afterwards; the catalog, the limiters and the
// audit log lock internally; the auth and broker plugins are thread-safe by contract.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit_log.hpp"
#include "catalog.hpp"
#include "client_address.hpp"
#include "dfd/auth.hpp"
#include "dfd/broker.hpp"
#include "dfd/info.hpp"
#include "login_limiter.hpp"
#include "login_throttle.hpp"
#include "manifest_limiter.hpp"
#include "rate_window.hpp"
#include "token_announcer.hpp"

namespace dfd::info {

// The config keys every info plugin takes (the core's, docs/api.md and configs/info.toml).
#define DFD_INFO_CORE_KEYS                                                                       \
  "auth", "download_auth", "admin_email", "admin_password_file", "admin_password_env",           \
      "heartbeat_timeout_ms", "token_ttl_s", "login_max_failures", "login_address_max_failures", \
      "login_account_max_failures", "trusted_proxies", "manifests_per_minute", "manifest_burst", \
      "audit_log", "confirm_timeout_ms"

// What a thin info plugin gives the core: its own config keys and its stores.
class InfoStores {
 public:
  virtual ~InfoStores() = default;
  // c.allow_only({DFD_INFO_CORE_KEYS, <the plugin's own keys>}).
  virtual Status allow_only(const Config& c) const = 0;
  // Parses and checks them: in create(), so without connecting anywhere (`dfd-host --check`).
  virtual Status init(const Config& c) = 0;
  // In start(): the catalog's store and the login throttle.
  virtual Result<std::unique_ptr<CatalogStore>> open_catalog() = 0;
  virtual Result<std::unique_ptr<LoginThrottle>> open_login_throttle(
      const LoginLimiter::Limits& limits, const Clock& clock) = 0;
  // Where the catalog lives, for the start log line ("catalog '/var/lib/dfd/catalog.db'").
  virtual std::string describe() const = 0;
  // A store several servers share: how often to merge what others wrote (Catalog::refresh) and
  // run maintain(); zero (the default) for a store only this server writes.
  virtual std::chrono::milliseconds refresh_period() const { return std::chrono::milliseconds(0); }
  // Periodic upkeep at `now_ms` (expired login failures); errors are logged, not fatal.
  virtual Status maintain(std::int64_t now_ms) noexcept {
    (void)now_ms;
    return Status::Ok();
  }
};

class InfoServer : public Info {
 public:
  // `name`: the plugin's name, in messages ("info-sqlite").
  InfoServer(HostServices& host, std::string name, std::unique_ptr<InfoStores> stores);
  ~InfoServer() override { stop(); }

  Status init();
  // The descriptor's check (ABI minor 3, DFD_PLUGIN_WITH_CHECK): the keys naming other plugins
  // (`auth`, `download_auth`) name listed auth plugins that can do the job. Opens nothing.
  Status check();
  Status start() noexcept override;
  void stop() noexcept override;
  Health health() const noexcept override;

 private:
  // Handlers reach the plugin only through this; stop() closes it and waits for running ones.
  struct Gate {
    std::atomic<bool> closed{false};
    std::shared_mutex mu;
    InfoServer* self = nullptr;  // guarded by mu
  };
  using Route = void (InfoServer::*)(const HttpRequest&, HttpResponse&);

  Status init_limits();
  Status find_auth_plugins();
  Status open_stores();
  void refresh_loop();
  HttpHandler wrap(Route fn);
  Status on_event(std::string_view key, std::string_view body) noexcept;
  // `publisher`: the routing key's last segment, which must be the body's server_id.
  Status on_file_available(std::string_view body, std::string_view publisher);
  static Status check_publisher(std::string_view kind, std::string_view server_id,
                                std::string_view publisher);
  Status ensure_admin();
  std::optional<User> authenticate(const HttpRequest& q, HttpResponse& r);
  void take_back(const Status& st);
  // A password checked under the login throttle (login, and a user changing their own password):
  // what happened, for the route to answer in its own words.
  struct PasswordCheck {
    enum Outcome { kRight, kThrottled, kWrong, kDisabled, kError } outcome = kError;
    std::optional<User> user;      // kRight
    std::int64_t retry_after = 0;  // kThrottled: seconds
    Status error;                  // kError (and kDisabled: the plugin's answer)
    bool throttle_down = false;    // kError: the throttle's store failed (answer 503)
  };
  PasswordCheck throttled_password_check(const std::string& account, const std::string& address,
                                         const std::string& email, const std::string& password);
  // Logs a kError check and answers it (503 when the throttle failed, else by its code).
  void answer_check_error(const PasswordCheck& check, HttpResponse& r);
  // authenticate() and a 403 ("only an admin may <what>") unless the caller is an admin.
  std::optional<User> authenticate_admin(const HttpRequest& q, HttpResponse& r,
                                         std::string_view what = "manage users");
  std::int64_t now_ms() const;
  void update_gauges();
  // The client address of a request (client_address.hpp).
  std::string client_of(const HttpRequest& q) const;
  void audit(std::string_view event, const nlohmann::json& fields);

  // Revokes every download token issued to `user_id` in the download store and publishes one
  // token.revoked event per token. The number of tokens, or the failure (some events may be
  // published; a retry publishes them all again, which file servers take idempotently).
  // kNotSupported when the download store cannot list a user's tokens (self-verifying tokens).
  Result<std::size_t> revoke_download_tokens_of(std::int64_t user_id);
  // revoke_download_tokens_of() for a route: true with *revoked = the count (null when the
  // store cannot list a user's tokens), or false after answering 503.
  bool revoke_or_answer(std::int64_t user_id, HttpResponse& r, nlohmann::json* revoked);
  // An admin's call on /v1/users/:id/...: the caller and the id, or nullopt after answering.
  struct AdminCall {
    User caller;
    std::int64_t user_id = 0;
  };
  std::optional<AdminCall> admin_call(const HttpRequest& q, HttpResponse& r);

  // routes
  void login(const HttpRequest& q, HttpResponse& r);
  void logout(const HttpRequest& q, HttpResponse& r);
  void list_files(const HttpRequest& q, HttpResponse& r);
  void manifest(const HttpRequest& q, HttpResponse& r);
  void add_user(const HttpRequest& q, HttpResponse& r);
  void disable_user(const HttpRequest& q, HttpResponse& r);
  void enable_user(const HttpRequest& q, HttpResponse& r);
  void set_disabled(const HttpRequest& q, HttpResponse& r, bool disabled);
  void revoke_user_tokens(const HttpRequest& q, HttpResponse& r);
  void list_users(const HttpRequest& q, HttpResponse& r);
  // 501 for the routes that need ABI minor 2 of the users' auth plugin.
  static void not_supported_v2(HttpResponse& r);
  void current_user(const HttpRequest& q, HttpResponse& r);
  void change_password(const HttpRequest& q, HttpResponse& r);
  // change_password()'s check of the caller's current password: true when right, else false
  // after answering (403 wrong or disabled, 429 throttled, 503). It counts in the login throttle
  // like a login (throttled_password_check).
  bool check_current_password(const HttpRequest& q, HttpResponse& r, const User& caller,
                              const std::string& current);
  void list_servers(const HttpRequest& q, HttpResponse& r);
  // The status page's data (status_routes.cpp), admin only.
  void status_files(const HttpRequest& q, HttpResponse& r);
  void status_tokens(const HttpRequest& q, HttpResponse& r);
  void status_audit(const HttpRequest& q, HttpResponse& r);
  // Seconds of the monotonic clock (RateWindow's time).
  std::int64_t steady_s() const;

  HostServices& host_;
  Logger& log_;
  const std::string name_;
  const std::unique_ptr<InfoStores> stores_;

  // config
  LoginLimiter::Limits login_limits_;
  std::string auth_name_;
  std::string download_auth_name_;
  std::string admin_email_;
  std::string admin_password_;  // only between init() and start()
  std::int64_t heartbeat_timeout_ms_ = 6000;
  std::chrono::seconds token_ttl_{3600};
  std::chrono::milliseconds confirm_timeout_{2000};

  // set in init()/start(), read-only afterwards
  Auth* users_ = nullptr;
  Auth* dl_auth_ = nullptr;
  bool users_admin_ = false;  // users_ was built with ABI minor >= 1 (user administration)
  bool dl_revoke_ = false;    // dl_auth_ was built with ABI minor >= 1 (revoke a user's tokens)
  bool users_list_ = false;   // users_ was built with ABI minor >= 2 (list users, set password)
  Broker* broker_ = nullptr;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<LoginThrottle> limiter_;
  std::unique_ptr<ManifestLimiter> manifest_limiter_;
  std::unique_ptr<ClientAddress> client_address_;
  AuditLog audit_;
  std::string audit_path_;
  // Groups concurrent manifests' token.issued events (token_announcer.hpp).
  std::unique_ptr<TokenAnnouncer> announcer_;

  Counter& tokens_issued_;
  Counter& token_failures_;
  Gauge& catalog_files_;
  Gauge& live_servers_;
  Counter& events_rejected_;
  Counter& names_rejected_;
  Counter& token_events_;
  Counter& manifests_limited_;
  Counter& revocations_;
  Counter& revocation_failures_;
  Counter& audit_failures_;
  // Download tokens handed out per second, the last minute (GET /v1/status/tokens).
  RateWindow issued_rate_;
  std::map<std::string, Counter*> logins_;
  std::atomic<bool> name_rejection_logged_{false};
  std::atomic<bool> audit_failure_logged_{false};

  std::shared_ptr<Gate> gate_;
  bool started_ = false;

  // The refresh of a shared store (InfoStores::refresh_period), stopped by stop().
  std::thread refresher_;
  std::mutex refresh_mu_;
  std::condition_variable refresh_cv_;
  bool refresh_stop_ = false;  // guarded by refresh_mu_
  Counter& refreshed_files_;
  Counter& refresh_failures_;
};

}  // namespace dfd::info
