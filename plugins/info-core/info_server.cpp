// info-core: configuration, lifecycle, events and the refresh of a shared store (the class and
// its threading rules: info_server.hpp).
#include "info_server.hpp"

#include <dlfcn.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "api_json.hpp"
#include "dfd/abi.hpp"
#include "dfd/creatable_file.hpp"
#include "dfd/events.hpp"
#include "file_name.hpp"
#include "status_page.hpp"

namespace dfd::info {

namespace {
using json = nlohmann::json;

constexpr std::chrono::seconds kLoginWindow{300};
// Most download tokens announced in one token.issued event (about 200 bytes each).
constexpr std::size_t kMaxTokenBatch = 256;
// One token.issued publish at a time: what arrives meanwhile forms the next, larger batch. With
// RabbitMQ confirming after fsync, two in flight measured fewer tokens/s (smaller batches, more
// events, the broker's per-event cost dominates).
constexpr std::size_t kTokenPublishesInFlight = 1;
// How long the oldest waiting token may wait for tokens being issued at that moment to join its
// event (only while some are; see token_announcer.hpp).
constexpr std::chrono::microseconds kTokenLinger{1000};

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

InfoServer::InfoServer(HostServices& host, std::string name, std::unique_ptr<InfoStores> stores)
    : host_(host),
      log_(host.logger()),
      name_(std::move(name)),
      stores_(std::move(stores)),
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
      names_rejected_(host.metrics().counter(
          "dfd_info_file_names_rejected_total",
          "file.available events dropped for a file name with control characters or bad UTF-8")),
      token_events_(host.metrics().counter(
          "dfd_info_token_events_total",
          "Confirmed token.issued events (each carries one or more download tokens)")),
      manifests_limited_(
          host.metrics().counter("dfd_info_manifests_rate_limited_total",
                                 "Manifest requests refused with 429 by the per-user rate limit")),
      revocations_(host.metrics().counter("dfd_info_tokens_revoked_total",
                                          "Download tokens revoked (token.revoked published)")),
      revocation_failures_(host.metrics().counter(
          "dfd_info_revocation_failures_total",
          "Revocations of a user's download tokens that could not be stored or published")),
      audit_failures_(host.metrics().counter("dfd_info_audit_write_failures_total",
                                             "Audit log lines that could not be written")),
      gate_(std::make_shared<Gate>()),
      refreshed_files_(host.metrics().counter(
          "dfd_info_catalog_refreshed_files_total",
          "Files learned from the shared store rather than from an event (written by another "
          "information server, or while this one was down)")),
      refresh_failures_(host.metrics().counter("dfd_info_catalog_refresh_failures_total",
                                               "Refreshes from the shared store that failed")) {
  for (const char* result : {"ok", "failed", "rate_limited", "invalid", "disabled"}) {
    logins_[result] =
        &host.metrics().counter("dfd_info_logins_total", "Login attempts", {{"result", result}});
  }
}

std::int64_t InfoServer::now_ms() const {
  return unix_ms(host_.clock().now());
}

std::int64_t InfoServer::steady_s() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             host_.clock().steady_now().time_since_epoch())
      .count();
}

void InfoServer::update_gauges() {
  catalog_files_.set(static_cast<double>(catalog_->file_count()));
  live_servers_.set(
      static_cast<double>(catalog_->live_server_count(now_ms(), heartbeat_timeout_ms_)));
}

std::string InfoServer::client_of(const HttpRequest& q) const {
  return client_address_->resolve(q.peer, q.header("x-forwarded-for"));
}

void InfoServer::audit(std::string_view event, const json& fields) {
  if (audit_.record(event, fields, host_.clock().now())) return;
  audit_failures_.add();
  if (!audit_failure_logged_.exchange(true)) {
    log_.error("cannot append to the audit log '" + audit_path_ + "': " + std::strerror(errno) +
               " (logged once; dfd_info_audit_write_failures_total counts them)");
  }
}

Status InfoServer::init() {
  const Config& c = host_.config();
  DFD_RETURN_IF_ERROR(stores_->allow_only(c));
  DFD_RETURN_IF_ERROR(stores_->init(c));

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
  DFD_RETURN_IF_ERROR(str("audit_log", audit_path_));
  // Opened (created) by start(); judged here so that dfd-host --check reports it.
  if (!audit_path_.empty()) {
    if (Status st = check_creatable_file(audit_path_); !st.ok()) {
      return c.error("audit_log", st.message());
    }
  }
  return init_limits();
}

// A whole number from an integer, or from a string of digits (so a deployment can write
// "${DFD_MANIFESTS_PER_MINUTE:-600}"), within [lo, hi].
static Status count_or(const Config& c, const char* key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi, std::int64_t& out) {
  std::int64_t v = fallback;
  if (c.has(key)) {
    auto i = c.get_int(key);
    if (i.ok()) {
      v = *i;
    } else {
      auto text = c.get_string(key);
      std::uint64_t u = 0;
      if (!text.ok() || !parse_uint(*text, static_cast<std::uint64_t>(hi), u)) {
        return c.error(key, "must be a whole number between " + std::to_string(lo) + " and " +
                                std::to_string(hi));
      }
      v = static_cast<std::int64_t>(u);
    }
  }
  if (v < lo || v > hi) {
    return c.error(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  out = v;
  return Status::Ok();
}

Status InfoServer::init_limits() {
  const Config& c = host_.config();
  LoginLimiter::Limits login;
  login.window = kLoginWindow;
  DFD_RETURN_IF_ERROR(count_or(c, "login_max_failures", 5, 1, 1000000, login.pair_max));
  DFD_RETURN_IF_ERROR(count_or(c, "login_address_max_failures", 4 * login.pair_max, 1, 10000000,
                               login.address_max));
  DFD_RETURN_IF_ERROR(count_or(c, "login_account_max_failures", 4 * login.pair_max, 1, 10000000,
                               login.account_max));
  login_limits_ = login;

  std::int64_t per_minute = 0, burst = 0;
  DFD_RETURN_IF_ERROR(count_or(c, "manifests_per_minute", 600, 0, 100000000, per_minute));
  // Default burst: five minutes' worth, so a test suite or a client starting many downloads at
  // once as one user (e2e: 1,000 manifests back to back) is not throttled; a flood is.
  DFD_RETURN_IF_ERROR(
      count_or(c, "manifest_burst", per_minute > 0 ? 5 * per_minute : 1, 1, 1000000000, burst));
  manifest_limiter_ = std::make_unique<ManifestLimiter>(per_minute, burst);

  std::vector<std::string> proxies;
  if (c.has("trusted_proxies")) {
    auto list = c.get_string_list("trusted_proxies");
    if (!list.ok()) return c.error("trusted_proxies", "must be a list of CIDR blocks (strings)");
    proxies = std::move(list.value());
  }
  auto addr = ClientAddress::parse(proxies);
  if (!addr.ok()) return c.error("trusted_proxies", addr.status().message());
  client_address_ = std::make_unique<ClientAddress>(std::move(addr.value()));
  return Status::Ok();
}

// Which auth plugins hold the users and check download tokens (keys `auth`, `download_auth`).
// Looks only: run by check() (dfd-host --check) and start().
Status InfoServer::find_auth_plugins() {
  const Config& c = host_.config();
  users_ = auth_name_.empty() ? host_.find<Auth>() : host_.find<Auth>(auth_name_);
  if (!users_) {
    return auth_name_.empty()
               ? c.error("auth", "no auth plugin is listed")
               : c.error("auth", "no auth plugin named '" + auth_name_ + "' is listed");
  }
  if (!users_->supports_users() && auth_name_.empty()) {
    // HostServices finds a kind's first plugin or one by name (no enumeration): after the first
    // auth plugin, try the ones that store users in this tree.
    for (const char* name : {"auth-sqlite", "auth-postgres"}) {
      Auth* alt = host_.find<Auth>(name);
      if (alt && alt->supports_users()) {
        users_ = alt;
        break;
      }
    }
  }
  if (!users_->supports_users()) {
    return c.error("auth",
                   "the auth plugin " +
                       (auth_name_.empty() ? std::string("listed first") : "'" + auth_name_ + "'") +
                       " stores no users; list one that does (auth-sqlite) or name it "
                       "with key 'auth'");
  }
  if (download_auth_name_.empty()) {
    dl_auth_ = users_;
  } else {
    dl_auth_ = host_.find<Auth>(download_auth_name_);
    if (!dl_auth_) {
      return c.error("download_auth",
                     "no auth plugin named '" + download_auth_name_ + "' is listed");
    }
  }
  return Status::Ok();
}

Status InfoServer::check() {
  return find_auth_plugins();
}

Status InfoServer::start() noexcept {
  return guard(name_ + ": start", [&]() -> Status {
    DFD_RETURN_IF_ERROR(find_auth_plugins().with_context(name_));
    // Abilities of ABI minor 1 (auth.hpp) only on plugins built with them.
    users_admin_ = plugin_abi_minor(*users_) >= kAbiMinorUserAdmin;
    dl_revoke_ = plugin_abi_minor(*dl_auth_) >= kAbiMinorUserAdmin;
    // And those of minor 2.
    users_list_ = plugin_abi_minor(*users_) >= kAbiMinorUserList;
    if (!users_admin_) {
      log_.warn(
          "the users' auth plugin predates ABI minor 1: disabling users and revoking a "
          "user's tokens are not available");
    }
    if (!users_list_) {
      log_.warn(
          "the users' auth plugin predates ABI minor 2: listing users and changing passwords "
          "are not available");
    }
    DFD_RETURN_IF_ERROR(audit_.open(audit_path_).with_context(name_ + ": audit_log"));
    broker_ = host_.find<Broker>();
    if (!broker_) return Status::FailedPrecondition(name_ + ": no broker plugin is loaded");
    Broker* broker = broker_;
    Counter* token_events = &token_events_;
    announcer_ = std::make_unique<TokenAnnouncer>(
        [broker, token_events](std::string_view body, std::chrono::milliseconds timeout) {
          Status st = broker->publish(events::kTokenIssued, body, timeout);
          if (st.ok()) token_events->add();
          return st;
        },
        kMaxTokenBatch, kTokenPublishesInFlight, kTokenLinger);

    DFD_RETURN_IF_ERROR(open_stores());
    if (catalog_->purged_names() > 0) {
      names_rejected_.add(static_cast<double>(catalog_->purged_names()));
      log_.warn("dropped " + std::to_string(catalog_->purged_names()) +
                " catalog entries whose file names hold control characters or bad UTF-8");
    }
    DFD_RETURN_IF_ERROR(ensure_admin());

    pin_this_library(log_);
    {
      std::unique_lock<std::shared_mutex> g(gate_->mu);
      gate_->self = this;
    }
    std::shared_ptr<Gate> gate = gate_;
    Status st = broker_->subscribe(
        {"file.#", "server.#"},
        [gate, name = name_](std::string_view key, std::string_view body) -> Status {
          if (gate->closed.load()) return Status::Unavailable(name + " is stopping");
          std::shared_lock<std::shared_mutex> l(gate->mu);
          if (!gate->self) return Status::Unavailable(name + " is stopped");
          return gate->self->on_event(key, body);
        });
    if (!st.ok()) return st.with_context(name_ + ": subscribe");

    HttpRoutes& http = host_.http();
    DFD_RETURN_IF_ERROR(http.add("POST", "/v1/auth/login", wrap(&InfoServer::login)));
    DFD_RETURN_IF_ERROR(http.add("POST", "/v1/auth/logout", wrap(&InfoServer::logout)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/files", wrap(&InfoServer::list_files)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/files/:id", wrap(&InfoServer::manifest)));
    DFD_RETURN_IF_ERROR(http.add("POST", "/v1/users", wrap(&InfoServer::add_user)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/users", wrap(&InfoServer::list_users)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/users/me", wrap(&InfoServer::current_user)));
    DFD_RETURN_IF_ERROR(
        http.add("POST", "/v1/users/:id/password", wrap(&InfoServer::change_password)));
    DFD_RETURN_IF_ERROR(http.add("POST", "/v1/users/:id/disable", wrap(&InfoServer::disable_user)));
    DFD_RETURN_IF_ERROR(http.add("POST", "/v1/users/:id/enable", wrap(&InfoServer::enable_user)));
    DFD_RETURN_IF_ERROR(
        http.add("POST", "/v1/users/:id/revoke-tokens", wrap(&InfoServer::revoke_user_tokens)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/servers", wrap(&InfoServer::list_servers)));
    // The status page (issue 14): its data (admin only) and the page itself.
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/status/files", wrap(&InfoServer::status_files)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/status/tokens", wrap(&InfoServer::status_tokens)));
    DFD_RETURN_IF_ERROR(http.add("GET", "/v1/status/audit", wrap(&InfoServer::status_audit)));
    DFD_RETURN_IF_ERROR(add_status_page_routes(http));
    update_gauges();
    if (stores_->refresh_period().count() > 0) refresher_ = std::thread([this] { refresh_loop(); });
    started_ = true;
    log_.info(stores_->describe() + ": " + std::to_string(catalog_->file_count()) +
              " files; download tokens " +
              (dl_auth_->needs_token_events() ? "published as token.issued" : "self-verifying"));
    return Status::Ok();
  });
}

// The catalog and the login throttle, from the plugin's stores.
Status InfoServer::open_stores() {
  auto store = stores_->open_catalog();
  if (!store.ok()) return store.status().with_context(name_);
  auto cat = Catalog::open(std::move(store.value()));
  if (!cat.ok()) return cat.status().with_context(name_);
  catalog_ = std::move(cat.value());
  auto throttle = stores_->open_login_throttle(login_limits_, host_.clock());
  if (!throttle.ok()) return throttle.status().with_context(name_);
  limiter_ = std::move(throttle.value());
  return Status::Ok();
}

// Every refresh_period: merge what other servers stored (and what this one missed) into the
// memory view, then the stores' upkeep. Rows are read from a little before the previous refresh,
// so clocks that differ between servers by less than kRefreshOverlap lose nothing.
void InfoServer::refresh_loop() {
  constexpr std::int64_t kRefreshOverlapMs = 60000;
  const auto period = stores_->refresh_period();
  std::int64_t since = now_ms() - kRefreshOverlapMs;
  bool failing = false;
  std::unique_lock<std::mutex> l(refresh_mu_);
  while (!refresh_cv_.wait_for(l, period, [&] { return refresh_stop_; })) {
    l.unlock();
    const std::int64_t started = now_ms();
    auto added = catalog_->refresh(since);
    Status upkeep = added.ok() ? stores_->maintain(started) : Status::Ok();
    if (added.ok() && upkeep.ok()) {
      since = started - period.count() - kRefreshOverlapMs;
      if (*added > 0) {
        refreshed_files_.add(static_cast<double>(*added));
        update_gauges();
      }
      if (failing) log_.info("catalog refresh works again");
      failing = false;
    } else {
      refresh_failures_.add();
      if (!failing) {  // once per outage
        log_.warn("catalog refresh failed (retried every " + std::to_string(period.count()) +
                  " ms): " + (added.ok() ? upkeep : added.status()).to_string());
      }
      failing = true;
    }
    l.lock();
  }
}

void InfoServer::stop() noexcept {
  {
    std::lock_guard<std::mutex> l(refresh_mu_);
    refresh_stop_ = true;
  }
  refresh_cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  gate_->closed.store(true);
  std::unique_lock<std::shared_mutex> g(gate_->mu);  // waits for running handlers
  gate_->self = nullptr;
}

Health InfoServer::health() const noexcept {
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

Status InfoServer::ensure_admin() {
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
  return created.status().with_context(name_ + ": creating the first admin");
}

HttpHandler InfoServer::wrap(Route fn) {
  std::shared_ptr<Gate> gate = gate_;
  return [gate, fn](const HttpRequest& q, HttpResponse& r) {
    if (gate->closed.load()) {
      set_json_error(r, 503, "unavailable", "the information server is stopping");
      return;
    }
    std::shared_lock<std::shared_mutex> l(gate->mu);
    InfoServer* self = gate->self;
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

Status InfoServer::on_event(std::string_view key, std::string_view body) noexcept {
  Status st = guard(name_ + ": event", [&]() -> Status {
    // file.available.<id>, file.removed.<id>, server.heartbeat.<id>: the body speaks for <id> only.
    const std::string_view kind = events::event_kind(key);
    const std::string_view publisher = events::event_publisher(key);
    if (kind == events::kFileAvailable) return on_file_available(body, publisher);
    if (kind == events::kFileRemoved) {
      auto f = events::decode_file_removed(body);
      if (!f.ok()) return f.status();
      DFD_RETURN_IF_ERROR(check_publisher(kind, f->server_id, publisher));
      return catalog_->apply_removed(*f);
    }
    if (kind == events::kServerHeartbeat) {
      auto h = events::decode_heartbeat(body);
      if (!h.ok()) return h.status();
      DFD_RETURN_IF_ERROR(check_publisher(kind, h->server_id, publisher));
      return catalog_->apply_heartbeat(*h, now_ms());
    }
    return Status::Ok();  // another file.* / server.* key from a newer version: not ours
  });
  if (st.code() == Code::kInvalidArgument) {
    // A malformed or conflicting event never becomes valid: the broker rejects it once without
    // requeue and logs it rate-limited (sdk/include/dfd/broker.hpp). Not logged here: a
    // publisher could flood the log.
    events_rejected_.add();
    return st;
  }
  if (!st.ok()) {
    log_.error("could not apply a " + std::string(key) +
               " event (will be redelivered): " + st.to_string());
    return st;
  }
  update_gauges();
  return Status::Ok();
}

Status InfoServer::check_publisher(std::string_view kind, std::string_view server_id,
                                   std::string_view publisher) {
  if (server_id == publisher) return Status::Ok();
  return Status::InvalidArgument(std::string(kind) +
                                 ": the body's server_id is not the routing key's last segment "
                                 "(a server may speak only for itself)");
}

Status InfoServer::on_file_available(std::string_view body, std::string_view publisher) {
  auto f = events::decode_file_available(body);
  if (!f.ok()) return f.status();
  DFD_RETURN_IF_ERROR(check_publisher(events::kFileAvailable, f->server_id, publisher));
  // Checked here and again in the catalog (defence in depth): a name with control characters
  // would reach terminals and client paths raw (issue 11, #8).
  if (std::string why = file_name_problem(f->name); !why.empty()) {
    names_rejected_.add();
    if (!name_rejection_logged_.exchange(true)) {
      log_.warn("dropped file.available of " + f->uid.substr(0, 64) + " from server '" +
                f->server_id.substr(0, 64) + "': " + why +
                " (logged once; dfd_info_file_names_rejected_total counts them)");
    }
    return Status::Ok();  // acknowledged: it never becomes valid
  }
  return catalog_->apply_available(*f, now_ms());
}

std::optional<User> InfoServer::authenticate(const HttpRequest& q, HttpResponse& r) {
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

std::optional<User> InfoServer::authenticate_admin(const HttpRequest& q, HttpResponse& r,
                                                   std::string_view what) {
  auto caller = authenticate(q, r);
  if (!caller) return std::nullopt;
  if (caller->role != "admin") {
    set_json_error(r, 403, "permission_denied", "only an admin may " + std::string(what));
    return std::nullopt;
  }
  return caller;
}

}  // namespace dfd::info
