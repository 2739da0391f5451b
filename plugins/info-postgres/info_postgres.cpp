// info-postgres: the information server's API (info-core, info_server.hpp) with the catalog
// (files, locations, server heartbeats) and the login throttle in PostgreSQL, so several
// information servers on one database answer alike: the same catalog ids, every file and
// heartbeat any of them stored, and a login failure counted on one counted on all.
//
// Config: info-sqlite's keys without `db`, with dfd_pg's (pg_settings.hpp: dsn, password_file,
// pool_size, connect_timeout_ms, statement_timeout_ms) and `refresh_ms`: how often each server
// merges what the others stored into its memory view (and purges expired login failures).
#include "info_postgres_schema.hpp"
#include "info_server.hpp"
#include "pg_catalog_store.hpp"
#include "pg_login_throttle.hpp"
#include "pg_settings.hpp"

namespace dfd::info_postgres {

namespace {
constexpr const char* kName = "info-postgres";

class PgStores final : public info::InfoStores {
 public:
  Status allow_only(const Config& c) const override {
    return c.allow_only({DFD_INFO_CORE_KEYS, DFD_PG_CONFIG_KEYS, "refresh_ms"});
  }
  Status init(const Config& c) override {
    auto s = pg::parse_settings(c);
    if (!s.ok()) return s.status();
    settings_ = std::move(s.value());
    settings_.application_name = std::string("dfd-") + kName;
    auto refresh = c.int_or("refresh_ms", 5000);
    if (!refresh.ok()) return refresh.status();
    if (*refresh < 50 || *refresh > 3600000) {
      return c.error("refresh_ms", "must be between 50 and 3600000");
    }
    refresh_ = std::chrono::milliseconds(*refresh);
    return Status::Ok();
  }
  Result<std::unique_ptr<info::CatalogStore>> open_catalog() override {
    DFD_RETURN_IF_ERROR(open_pool());
    return std::unique_ptr<info::CatalogStore>(std::make_unique<PgCatalogStore>(pool_));
  }
  Result<std::unique_ptr<info::LoginThrottle>> open_login_throttle(
      const info::LoginLimiter::Limits& limits, const Clock& clock) override {
    DFD_RETURN_IF_ERROR(open_pool());
    auto t = std::make_unique<PgLoginThrottle>(pool_, limits, clock);
    throttle_ = t.get();
    return std::unique_ptr<info::LoginThrottle>(std::move(t));
  }
  std::string describe() const override { return "catalog in PostgreSQL " + target_; }
  std::chrono::milliseconds refresh_period() const override { return refresh_; }
  Status maintain(std::int64_t now_ms) noexcept override {
    return throttle_ ? throttle_->purge(now_ms) : Status::Ok();
  }

 private:
  // The pool and the schema, once (the catalog and the throttle share the pool).
  Status open_pool() {
    if (pool_) return Status::Ok();
    auto p = pg::Pool::open(settings_, kName);
    if (!p.ok()) return p.status();
    std::shared_ptr<pg::Pool> pool(std::move(p.value()));
    DFD_RETURN_IF_ERROR(pg::migrate(*pool, kSchemaComponent, schema_steps()));
    target_ = pool->target();
    pool_ = std::move(pool);
    return Status::Ok();
  }

  pg::Settings settings_;
  std::chrono::milliseconds refresh_{5000};
  std::shared_ptr<pg::Pool> pool_;
  std::string target_;
  PgLoginThrottle* throttle_ = nullptr;  // owned by the InfoServer, which outlives maintain()
};
}  // namespace

class InfoPostgres final : public info::InfoServer {
 public:
  explicit InfoPostgres(HostServices& host)
      : InfoServer(host, kName, std::make_unique<PgStores>()) {}
};

}  // namespace dfd::info_postgres

namespace {
const dfd::PluginKind kNeeds[] = {dfd::PluginKind::kAuth, dfd::PluginKind::kBroker};
}

DFD_PLUGIN_WITH_CHECK(
    dfd::PluginKind::kInfo, "info-postgres", "1.0.0",
    "Information server API with the catalog and login throttle in PostgreSQL (several "
    "information servers on one database)",
    kNeeds, 2, &dfd::create_plugin<dfd::info_postgres::InfoPostgres>,
    &dfd::destroy_plugin<dfd::info_postgres::InfoPostgres>,
    &dfd::check_plugin<dfd::info_postgres::InfoPostgres>)
