// info-sqlite: the information server's HTTP API (docs/api.md) over a SQLite catalog that is
// built from broker events.
//
// The class is split by job over several files: info_sqlite.cpp (config, lifecycle, events,
// catalog and manifest routes), session_routes.cpp (login, logout), user_routes.cpp (users:
// add, disable, enable, revoke tokens).
//
// Threading: HTTP handlers run concurrently on the host's HTTP threads; event handlers run on the
// broker's thread. Both reach the plugin only through a Gate that stop() closes, so nothing of
// this plugin runs after stop() returned even if the host or the broker still holds a handler.
// Members set in init()/start() are read-only afterwards; the catalog, the limiters and the
// audit log lock internally; the auth and broker plugins are thread-safe by contract.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "audit_log.hpp"
#include "catalog.hpp"
#include "client_address.hpp"
#include "dfd/auth.hpp"
#include "dfd/broker.hpp"
#include "dfd/info.hpp"
#include "login_limiter.hpp"
#include "manifest_limiter.hpp"
#include "token_announcer.hpp"

namespace dfd::info_sqlite {

class InfoSqlite final : public Info {
 public:
  explicit InfoSqlite(HostServices& host);
  ~InfoSqlite() override { stop(); }

  Status init();
  Status start() noexcept override;
  void stop() noexcept override;
  Health health() const noexcept override;

 private:
  // Handlers reach the plugin only through this; stop() closes it and waits for running ones.
  struct Gate {
    std::atomic<bool> closed{false};
    std::shared_mutex mu;
    InfoSqlite* self = nullptr;  // guarded by mu
  };
  using Route = void (InfoSqlite::*)(const HttpRequest&, HttpResponse&);

  Status init_limits();
  HttpHandler wrap(Route fn);
  Status on_event(std::string_view key, std::string_view body) noexcept;
  // `publisher`: the routing key's last segment, which must be the body's server_id.
  Status on_file_available(std::string_view body, std::string_view publisher);
  static Status check_publisher(std::string_view kind, std::string_view server_id,
                                std::string_view publisher);
  Status ensure_admin();
  std::optional<User> authenticate(const HttpRequest& q, HttpResponse& r);
  // authenticate() and a 403 unless the caller is an admin.
  std::optional<User> authenticate_admin(const HttpRequest& q, HttpResponse& r);
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
  void list_servers(const HttpRequest& q, HttpResponse& r);

  HostServices& host_;
  Logger& log_;

  // config
  std::string db_path_;
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
  Broker* broker_ = nullptr;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<LoginLimiter> limiter_;
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
  std::map<std::string, Counter*> logins_;
  std::atomic<bool> name_rejection_logged_{false};
  std::atomic<bool> audit_failure_logged_{false};

  std::shared_ptr<Gate> gate_;
  bool started_ = false;
};

}  // namespace dfd::info_sqlite
