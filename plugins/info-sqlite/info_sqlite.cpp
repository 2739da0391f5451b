// info-sqlite: the information server's HTTP API (docs/api.md) over a SQLite catalog that is
// built from broker events.
//
// Threading: HTTP handlers run concurrently on the host's HTTP threads; event handlers run on the
// broker's thread. Both reach the plugin only through a Gate that stop() closes, so nothing of
// this plugin runs after stop() returned even if the host or the broker still holds a handler.
// Members set in start() are read-only afterwards; the catalog and the login limiter lock
// internally; the auth and broker plugins are thread-safe by contract.
#include <dlfcn.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <sstream>

#include "catalog.hpp"
#include "dfd/auth.hpp"
#include "dfd/broker.hpp"
#include "dfd/events.hpp"
#include "dfd/info.hpp"
#include "login_limiter.hpp"
#include "token_announcer.hpp"

namespace dfd::info_sqlite {

namespace {
using json = nlohmann::json;

// User tokens: 0 asks the auth plugin for its own configured lifetime (auth-sqlite's
// user_token_ttl_s).
constexpr std::chrono::seconds kUserTokenTtl{0};
constexpr std::chrono::seconds kLoginWindow{300};
constexpr std::size_t kMaxField = 1024;
// Most download tokens announced in one token.issued event (about 200 bytes each).
constexpr std::size_t kMaxTokenBatch = 256;
// One token.issued publish at a time: what arrives meanwhile forms the next, larger batch. With
// RabbitMQ confirming after fsync, two in flight measured fewer tokens/s (smaller batches, more
// events, the broker's per-event cost dominates).
constexpr std::size_t kTokenPublishesInFlight = 1;
// How long the oldest waiting token may wait for tokens being issued at that moment to join its
// event (only while some are; see token_announcer.hpp).
constexpr std::chrono::microseconds kTokenLinger{1000};

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

int http_status(Code c) {
  switch (c) {
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kResourceExhausted:
      return 429;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

void set_error(HttpResponse& r, const Status& st) {
  set_json_error(r, http_status(st.code()), code_name(st.code()), st.message());
}

void unauthorized(HttpResponse& r, std::string_view message) {
  set_json_error(r, 401, "unauthenticated", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
}

json user_json(const User& u) {
  return json{{"id", u.id}, {"email", u.email}, {"name", u.name}, {"role", u.role}};
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Decimal digits only (no sign, no spaces), at most `max`.
bool parse_uint(const std::string& s, std::uint64_t max, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

// A string field of a JSON object: nullopt when absent or not a string.
std::optional<std::string> string_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool plausible_email(const std::string& e) {
  if (e.size() < 3 || e.size() > 254) return false;
  auto at = e.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == e.size() || e.find('@', at + 1) != e.npos) {
    return false;
  }
  for (char c : e) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

// The HTTP routes and the broker subscription are std::function objects whose code lives in this
// library, but they are owned (and destroyed) by the host and the broker, possibly after the host
// unloaded this library. Pinning the library (RTLD_NODELETE) keeps that code mapped until the
// process exits; plugins are loaded once per run anyway.
void pin_this_library(Logger& log) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&pin_this_library), &info) == 0 || !info.dli_fname) {
    log.warn("cannot find this plugin's library file to pin it");
    return;
  }
  if (!dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)) {
    log.warn(std::string("cannot pin this plugin's library: ") + dlerror());
  }
  // The handle is deliberately never closed.
}

std::int64_t unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

class InfoSqlite final : public Info {
 public:
  explicit InfoSqlite(HostServices& host)
      : host_(host),
        log_(host.logger()),
        tokens_issued_(host.metrics().counter("dfd_info_tokens_issued_total",
                                              "Download tokens handed out (confirmed)")),
        token_failures_(host.metrics().counter(
            "dfd_info_token_publish_failures_total",
            "Manifests refused because the token.issued event was not confirmed")),
        catalog_files_(host.metrics().gauge("dfd_info_catalog_files", "Files in the catalog")),
        live_servers_(host.metrics().gauge("dfd_info_live_servers",
                                           "File servers heard within the heartbeat timeout")),
        events_rejected_(host.metrics().counter("dfd_info_events_rejected_total",
                                                "Malformed or conflicting events dropped")),
        token_events_(host.metrics().counter(
            "dfd_info_token_events_total",
            "Confirmed token.issued events (each carries one or more download tokens)")),
        gate_(std::make_shared<Gate>()) {
    for (const char* result : {"ok", "failed", "rate_limited", "invalid"}) {
      logins_[result] =
          &host.metrics().counter("dfd_info_logins_total", "Login attempts", {{"result", result}});
    }
  }

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

  HttpHandler wrap(Route fn);
  Status on_event(std::string_view key, std::string_view body) noexcept;
  Status ensure_admin();
  std::optional<User> authenticate(const HttpRequest& q, HttpResponse& r);
  std::int64_t now_ms() const { return unix_ms(host_.clock().now()); }
  void update_gauges() {
    catalog_files_.set(static_cast<double>(catalog_->file_count()));
    live_servers_.set(
        static_cast<double>(catalog_->live_server_count(now_ms(), heartbeat_timeout_ms_)));
  }

  void login(const HttpRequest& q, HttpResponse& r);
  void logout(const HttpRequest& q, HttpResponse& r);
  void list_files(const HttpRequest& q, HttpResponse& r);
  void manifest(const HttpRequest& q, HttpResponse& r);
  void add_user(const HttpRequest& q, HttpResponse& r);
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
  std::int64_t login_max_failures_ = 5;
  std::chrono::milliseconds confirm_timeout_{2000};

  // set in start(), read-only afterwards
  Auth* users_ = nullptr;
  Auth* dl_auth_ = nullptr;
  Broker* broker_ = nullptr;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<LoginLimiter> limiter_;
  // Groups concurrent manifests' token.issued events (token_announcer.hpp).
  std::unique_ptr<TokenAnnouncer> announcer_;

  Counter& tokens_issued_;
  Counter& token_failures_;
  Gauge& catalog_files_;
  Gauge& live_servers_;
  Counter& events_rejected_;
  Counter& token_events_;
  std::map<std::string, Counter*> logins_;

  std::shared_ptr<Gate> gate_;
  bool started_ = false;
};

Status InfoSqlite::init() {
  const Config& c = host_.config();
  DFD_RETURN_IF_ERROR(c.allow_only(
      {"db", "auth", "download_auth", "admin_email", "admin_password_file", "admin_password_env",
       "heartbeat_timeout_ms", "token_ttl_s", "login_max_failures", "confirm_timeout_ms"}));
  if (!c.has("db")) return c.error("db", "is required (path of the catalog's SQLite file)");
  auto db = c.get_string("db");
  if (!db.ok()) return db.status();
  if (db->empty()) return c.error("db", "must not be empty");
  db_path_ = *db;

  auto str = [&](const char* key, std::string& out) -> Status {
    auto v = c.string_or(key, "");
    if (!v.ok()) return v.status();
    out = *v;
    return Status::Ok();
  };
  DFD_RETURN_IF_ERROR(str("auth", auth_name_));
  DFD_RETURN_IF_ERROR(str("download_auth", download_auth_name_));
  DFD_RETURN_IF_ERROR(str("admin_email", admin_email_));

  auto ranged = [&](const char* key, std::int64_t fallback, std::int64_t lo, std::int64_t hi,
                    std::int64_t& out) -> Status {
    auto v = c.int_or(key, fallback);
    if (!v.ok()) return v.status();
    if (*v < lo || *v > hi) {
      return c.error(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    out = *v;
    return Status::Ok();
  };
  std::int64_t ttl = 0, confirm = 0;
  DFD_RETURN_IF_ERROR(ranged("heartbeat_timeout_ms", 6000, 100, 86400000, heartbeat_timeout_ms_));
  DFD_RETURN_IF_ERROR(ranged("token_ttl_s", 3600, 1, 30 * 86400, ttl));
  DFD_RETURN_IF_ERROR(ranged("login_max_failures", 5, 1, 1000000, login_max_failures_));
  DFD_RETURN_IF_ERROR(ranged("confirm_timeout_ms", 2000, 1, 60000, confirm));
  token_ttl_ = std::chrono::seconds(ttl);
  confirm_timeout_ = std::chrono::milliseconds(confirm);

  // The first admin's password: from a file or an environment variable, never the config text.
  std::string pw_file, pw_env;
  DFD_RETURN_IF_ERROR(str("admin_password_file", pw_file));
  DFD_RETURN_IF_ERROR(str("admin_password_env", pw_env));
  if (!pw_file.empty() && !pw_env.empty()) {
    return c.error("admin_password_env",
                   "give admin_password_file or admin_password_env, not both");
  }
  if (admin_email_.empty()) {
    if (!pw_file.empty() || !pw_env.empty()) {
      return c.error(pw_file.empty() ? "admin_password_env" : "admin_password_file",
                     "needs admin_email");
    }
  } else {
    if (!plausible_email(admin_email_)) return c.error("admin_email", "is not an e-mail address");
    if (!pw_file.empty()) {
      std::ifstream in(pw_file, std::ios::binary);
      if (!in) {
        return c.error("admin_password_file",
                       "cannot read '" + pw_file + "': " + std::strerror(errno));
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      admin_password_ = ss.str();
      while (!admin_password_.empty() &&
             (admin_password_.back() == '\n' || admin_password_.back() == '\r')) {
        admin_password_.pop_back();
      }
      if (admin_password_.empty()) {
        return c.error("admin_password_file", "'" + pw_file + "' holds an empty password");
      }
    } else if (!pw_env.empty()) {
      const char* v = std::getenv(pw_env.c_str());
      if (!v || !*v) {
        return c.error("admin_password_env",
                       "environment variable '" + pw_env + "' is not set or empty");
      }
      admin_password_ = v;
    } else {
      return c.error("admin_email", "needs admin_password_file or admin_password_env");
    }
  }
  limiter_ = std::make_unique<LoginLimiter>(login_max_failures_, kLoginWindow);
  return Status::Ok();
}

Status InfoSqlite::start() noexcept {
  return guard("info-sqlite: start", [&]() -> Status {
    users_ = auth_name_.empty() ? host_.find<Auth>() : host_.find<Auth>(auth_name_);
    if (!users_) {
      return Status::FailedPrecondition(
          "info-sqlite: no auth plugin" +
          (auth_name_.empty() ? std::string() : " named '" + auth_name_ + "'") + " is loaded");
    }
    if (!users_->supports_users() && auth_name_.empty()) {
      // HostServices finds a kind's first plugin or one by name (no enumeration): after the first
      // auth plugin, try the one that stores users in this tree.
      if (Auth* alt = host_.find<Auth>("auth-sqlite"); alt && alt->supports_users()) users_ = alt;
    }
    if (!users_->supports_users()) {
      return Status::FailedPrecondition(
          "info-sqlite: the auth plugin " +
          (auth_name_.empty() ? std::string("listed first") : "'" + auth_name_ + "'") +
          " stores no users; list one that does (auth-sqlite) or name it with key 'auth'");
    }
    if (download_auth_name_.empty()) {
      dl_auth_ = users_;
    } else {
      dl_auth_ = host_.find<Auth>(download_auth_name_);
      if (!dl_auth_) {
        return Status::FailedPrecondition("info-sqlite: download_auth '" + download_auth_name_ +
                                          "' is not loaded");
      }
    }
    broker_ = host_.find<Broker>();
    if (!broker_) return Status::FailedPrecondition("info-sqlite: no broker plugin is loaded");
    Broker* broker = broker_;
    Counter* token_events = &token_events_;
    announcer_ = std::make_unique<TokenAnnouncer>(
        [broker, token_events](std::string_view body, std::chrono::milliseconds timeout) {
          Status st = broker->publish(events::kTokenIssued, body, timeout);
          if (st.ok()) token_events->add();
          return st;
        },
        kMaxTokenBatch, kTokenPublishesInFlight, kTokenLinger);

    auto cat = Catalog::open(db_path_);
    if (!cat.ok()) return cat.status().with_context("info-sqlite");
    catalog_ = std::move(cat.value());
    DFD_RETURN_IF_ERROR(ensure_admin());

    pin_this_library(log_);
    {
      std::unique_lock<std::shared_mutex> g(gate_->mu);
      gate_->self = this;
    }
    std::shared_ptr<Gate> gate = gate_;
    Status st = broker_->subscribe({"file.*", "server.*"},
                                   [gate](std::string_view key, std::string_view body) -> Status {
                                     if (gate->closed.load())
                                       return Status::Unavailable("info-sqlite is stopping");
                                     std::shared_lock<std::shared_mutex> l(gate->mu);
                                     if (!gate->self)
                                       return Status::Unavailable("info-sqlite is stopped");
                                     return gate->self->on_event(key, body);
                                   });
    if (!st.ok()) return st.with_context("info-sqlite: subscribe");

    HttpRoutes& http = host_.http();
    DFD_RETURN_IF_ERROR(http.add("POST", "/v1/auth/login", wrap(&InfoSqlite::login)));
    DFD_RETURN_IF_ERROR(http.add("POST", "/v1/auth/logout", wrap(&InfoSqlite::logout)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/files", wrap(&InfoSqlite::list_files)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/files/:id", wrap(&InfoSqlite::manifest)));
    DFD_RETURN_IF_ERROR(http.add("POST", "/v1/users", wrap(&InfoSqlite::add_user)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/servers", wrap(&InfoSqlite::list_servers)));
    update_gauges();
    started_ = true;
    log_.info("catalog '" + db_path_ + "': " + std::to_string(catalog_->file_count()) +
              " files; download tokens " +
              (dl_auth_->needs_token_events() ? "published as token.issued" : "self-verifying"));
    return Status::Ok();
  });
}

void InfoSqlite::stop() noexcept {
  gate_->closed.store(true);
  std::unique_lock<std::shared_mutex> g(gate_->mu);  // waits for running handlers
  gate_->self = nullptr;
}

Health InfoSqlite::health() const noexcept {
  Health h;
  if (!catalog_) return Health{false, "not started"};
  Status st = catalog_->check();
  bool connected = broker_ && broker_->connected();
  std::size_t live = catalog_->live_server_count(now_ms(), heartbeat_timeout_ms_);
  live_servers_.set(static_cast<double>(live));
  h.healthy = st.ok() && connected;
  h.detail = std::to_string(catalog_->file_count()) + " files, " + std::to_string(live) +
             " live servers; catalog " + (st.ok() ? "ok" : st.message()) + "; broker " +
             (connected ? "connected" : "disconnected");
  return h;
}

Status InfoSqlite::ensure_admin() {
  if (admin_email_.empty()) return Status::Ok();
  std::string pw;
  pw.swap(admin_password_);
  auto existing = users_->find_user(admin_email_);
  if (existing.ok()) {
    if (existing->role != "admin") {
      log_.warn("admin_email '" + admin_email_ + "' exists with role '" + existing->role +
                "'; left unchanged");
    }
    return Status::Ok();
  }
  auto created = users_->create_user(admin_email_, "admin", pw, "admin");
  std::fill(pw.begin(), pw.end(), '\0');
  if (created.ok()) {
    log_.info("created the first admin '" + admin_email_ + "'");
    return Status::Ok();
  }
  if (created.status().code() == Code::kAlreadyExists) return Status::Ok();
  return created.status().with_context("info-sqlite: creating the first admin");
}

HttpHandler InfoSqlite::wrap(Route fn) {
  std::shared_ptr<Gate> gate = gate_;
  return [gate, fn](const HttpRequest& q, HttpResponse& r) {
    if (gate->closed.load()) {
      set_json_error(r, 503, "unavailable", "the information server is stopping");
      return;
    }
    std::shared_lock<std::shared_mutex> l(gate->mu);
    InfoSqlite* self = gate->self;
    if (!self) {
      set_json_error(r, 503, "unavailable", "the information server is stopped");
      return;
    }
    try {
      (self->*fn)(q, r);
    } catch (const std::exception& e) {
      self->log_.error(q.method + " " + q.path + ": " + e.what());
      r.headers.clear();
      set_json_error(r, 500, "internal", "internal error");
    } catch (...) {
      r.headers.clear();
      set_json_error(r, 500, "internal", "internal error");
    }
  };
}

Status InfoSqlite::on_event(std::string_view key, std::string_view body) noexcept {
  Status st = guard("info-sqlite: event", [&]() -> Status {
    if (key == events::kFileAvailable) {
      auto f = events::decode_file_available(body);
      if (!f.ok()) return f.status();
      return catalog_->apply_available(*f, now_ms());
    }
    if (key == events::kFileRemoved) {
      auto f = events::decode_file_removed(body);
      if (!f.ok()) return f.status();
      return catalog_->apply_removed(*f);
    }
    if (key == events::kServerHeartbeat) {
      auto h = events::decode_heartbeat(body);
      if (!h.ok()) return h.status();
      return catalog_->apply_heartbeat(*h, now_ms());
    }
    return Status::Ok();  // another file.* / server.* key from a newer version: not ours
  });
  if (st.code() == Code::kInvalidArgument) {
    // A malformed or conflicting event never becomes valid: log it and acknowledge it (Ok), so
    // it is not redelivered forever.
    events_rejected_.add();
    log_.warn("dropped a " + std::string(key) + " event: " + st.message());
    return Status::Ok();
  }
  if (!st.ok()) {
    log_.error("could not apply a " + std::string(key) +
               " event (will be redelivered): " + st.to_string());
    return st;
  }
  update_gauges();
  return Status::Ok();
}

std::optional<User> InfoSqlite::authenticate(const HttpRequest& q, HttpResponse& r) {
  std::string token = q.bearer();
  if (token.empty()) {
    unauthorized(r, "this route needs 'Authorization: Bearer <token>' (POST /v1/auth/login)");
    return std::nullopt;
  }
  auto u = users_->verify_user_token(token);
  if (u.ok()) return *u;
  switch (u.status().code()) {
    case Code::kUnauthenticated:
    case Code::kNotFound:
    case Code::kPermissionDenied:
    case Code::kInvalidArgument:
      unauthorized(r, "the token is invalid, expired or revoked; log in again");
      break;
    default:
      log_.error("verify_user_token: " + u.status().to_string());
      set_error(r, u.status());
  }
  return std::nullopt;
}

void InfoSqlite::login(const HttpRequest& q, HttpResponse& r) {
  json j = json::parse(q.body, nullptr, false);
  std::optional<std::string> email, password;
  if (j.is_object()) {
    email = string_field(j, "email");
    password = string_field(j, "password");
  }
  if (!email || !password || email->empty() || password->empty() || email->size() > kMaxField ||
      password->size() > kMaxField) {
    logins_["invalid"]->add();
    set_json_error(r, 400, "invalid_argument",
                   "the body must be a JSON object with non-empty strings 'email' and 'password'");
    return;
  }
  const std::string account = lower(*email);
  const auto now = host_.clock().steady_now();
  if (std::int64_t wait = limiter_->retry_after(account, q.peer, now); wait > 0) {
    logins_["rate_limited"]->add();
    set_json_error(r, 429, "rate_limited",
                   "too many failed logins; retry in " + std::to_string(wait) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return;
  }
  auto user = users_->check_password(*email, *password);
  if (!user.ok()) {
    Code c = user.status().code();
    if (c == Code::kUnauthenticated || c == Code::kNotFound || c == Code::kPermissionDenied) {
      limiter_->record_failure(account, q.peer, now);
      logins_["failed"]->add();
      log_.info("failed login from " + (q.peer.empty() ? std::string("?") : q.peer));
      unauthorized(r, "invalid email or password");
      return;
    }
    log_.error("check_password: " + user.status().to_string());
    set_error(r, user.status());
    return;
  }
  limiter_->record_success(account);
  auto token = users_->issue_user_token(user->id, kUserTokenTtl);
  if (!token.ok()) {
    log_.error("issue_user_token: " + token.status().to_string());
    set_error(r, token.status());
    return;
  }
  logins_["ok"]->add();
  r.status = 200;
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = dump(json{{"token", token->token},
                     {"expires_at", format_rfc3339(token->expires_at)},
                     {"user", user_json(*user)}});
}

void InfoSqlite::logout(const HttpRequest& q, HttpResponse& r) {
  if (!authenticate(q, r)) return;
  Status st = users_->revoke_user_token(q.bearer());
  if (!st.ok()) {
    log_.error("revoke_user_token: " + st.to_string());
    set_error(r, st);
    return;
  }
  r.status = 204;
  r.body.clear();
}

void InfoSqlite::list_files(const HttpRequest& q, HttpResponse& r) {
  if (!authenticate(q, r)) return;
  std::uint64_t limit = 100, offset = 0;
  auto it = q.query.find("limit");
  if (it != q.query.end() && (!parse_uint(it->second, 1000, limit) || limit == 0)) {
    set_json_error(r, 400, "invalid_argument", "'limit' must be an integer from 1 to 1000");
    return;
  }
  it = q.query.find("offset");
  if (it != q.query.end() && !parse_uint(it->second, 1000000000000ULL, offset)) {
    set_json_error(r, 400, "invalid_argument", "'offset' must be a non-negative integer");
    return;
  }
  FilePage page = catalog_->list(limit, offset, now_ms(), heartbeat_timeout_ms_);
  std::string body = "{\"files\":[";
  for (std::size_t i = 0; i < page.files.size(); ++i) {
    if (i) body += ',';
    body += page.files[i].file->list_json;
    body += page.files[i].available ? ",\"available\":true}" : ",\"available\":false}";
  }
  body += "],\"total\":" + std::to_string(page.total) + "}";
  r.status = 200;
  r.body = std::move(body);
}

void InfoSqlite::manifest(const HttpRequest& q, HttpResponse& r) {
  auto user = authenticate(q, r);
  if (!user) return;
  std::uint64_t id = 0;
  auto p = q.params.find("id");
  if (p == q.params.end() || !parse_uint(p->second, static_cast<std::uint64_t>(INT64_MAX), id) ||
      id == 0) {
    set_json_error(r, 400, "invalid_argument", "the file id must be a positive integer");
    return;
  }
  auto file = catalog_->find(static_cast<std::int64_t>(id));
  if (!file) {
    set_json_error(r, 404, "not_found", "no file with id " + std::to_string(id));
    return;
  }
  std::string zone;
  if (auto z = q.query.find("zone"); z != q.query.end()) zone = z->second;
  auto locations = catalog_->live_locations(file->uid, zone, now_ms(), heartbeat_timeout_ms_);
  if (locations.empty()) {
    set_json_error(r, 503, "unavailable",
                   "no file server holding file " + std::to_string(id) + " is live right now");
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
      log_.warn("token.issued for file " + std::to_string(id) +
                " was not confirmed: " + st.to_string());
      set_json_error(r, 503, "unavailable",
                     "the event broker did not confirm the download token; retry shortly");
      r.headers.emplace_back("Retry-After", "1");
      return;
    }
  }
  tokens_issued_.add();

  std::string body;
  body.reserve(file->manifest_json.size() + 256 + locations.size() * 128);
  body += file->manifest_json;
  body += ",\"locations\":[";
  for (std::size_t i = 0; i < locations.size(); ++i) {
    if (i) body += ',';
    body += "{\"server_id\":" + json_quote(locations[i].server_id) +
            ",\"zone\":" + json_quote(locations[i].zone) +
            ",\"url\":" + json_quote(locations[i].url) + ",\"healthy\":true}";
  }
  body += "],\"download_token\":" + json_quote(token->token) +
          ",\"token_expires_at\":" + json_quote(format_rfc3339(token->expires_at)) + "}";
  r.status = 200;
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = std::move(body);
}

void InfoSqlite::add_user(const HttpRequest& q, HttpResponse& r) {
  auto caller = authenticate(q, r);
  if (!caller) return;
  if (caller->role != "admin") {
    set_json_error(r, 403, "permission_denied", "only an admin may add users");
    return;
  }
  json j = json::parse(q.body, nullptr, false);
  if (!j.is_object()) {
    set_json_error(r, 400, "invalid_argument", "the body must be a JSON object");
    return;
  }
  auto email = string_field(j, "email");
  auto password = string_field(j, "password");
  std::optional<std::string> name = j.contains("name") ? string_field(j, "name") : "";
  std::optional<std::string> role = j.contains("role") ? string_field(j, "role") : "user";
  if (!email || !plausible_email(*email)) {
    set_json_error(r, 400, "invalid_argument", "'email' must be an e-mail address");
    return;
  }
  if (!password || password->size() < 8 || password->size() > kMaxField) {
    set_json_error(r, 400, "invalid_argument",
                   "'password' must be a string of 8 to 1024 characters");
    return;
  }
  if (!name || name->size() > 200) {
    set_json_error(r, 400, "invalid_argument", "'name' must be a string of at most 200 bytes");
    return;
  }
  if (!role || (*role != "admin" && *role != "user")) {
    set_json_error(r, 400, "invalid_argument", "'role' must be \"admin\" or \"user\"");
    return;
  }
  auto user = users_->create_user(*email, *name, *password, *role);
  if (!user.ok()) {
    Code c = user.status().code();
    if (c == Code::kAlreadyExists) {
      set_json_error(r, 409, "already_exists", "a user with this e-mail exists");
    } else if (c == Code::kInvalidArgument) {
      set_error(r, user.status());
    } else {
      log_.error("create_user: " + user.status().to_string());
      set_error(r, user.status());
    }
    return;
  }
  log_.info("admin " + std::to_string(caller->id) + " added user " + std::to_string(user->id) +
            " (" + *role + ")");
  r.status = 201;
  r.body = dump(user_json(*user));
}

void InfoSqlite::list_servers(const HttpRequest& q, HttpResponse& r) {
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

}  // namespace dfd::info_sqlite

namespace {
const dfd::PluginKind kNeeds[] = {dfd::PluginKind::kAuth, dfd::PluginKind::kBroker};
}

DFD_PLUGIN(dfd::PluginKind::kInfo, "info-sqlite", "1.0.0",
           "Information server API: login, catalog from events, manifests, download tokens", kNeeds,
           2, &dfd::create_plugin<dfd::info_sqlite::InfoSqlite>,
           &dfd::destroy_plugin<dfd::info_sqlite::InfoSqlite>)
