// info-sqlite: the information server's API (info-core, info_server.hpp) with the catalog in one
// SQLite file (`db`) and the login throttle in this server's memory. One information server per
// catalog; several share one catalog with info-postgres.
#include <filesystem>
#include <system_error>

#include "dfd/creatable_file.hpp"
#include "info_server.hpp"
#include "sqlite_catalog_store.hpp"

namespace dfd::info_sqlite {

namespace {
class SqliteStores final : public info::InfoStores {
 public:
  Status allow_only(const Config& c) const override {
    return c.allow_only({DFD_INFO_CORE_KEYS, "db"});
  }
  Status init(const Config& c) override {
    if (!c.has("db")) return c.error("db", "is required (path of the catalog's SQLite file)");
    auto db = c.get_string("db");
    if (!db.ok()) return db.status();
    if (db->empty()) return c.error("db", "must not be empty");
    // Created by start() (open_catalog); judged here so that dfd-host --check reports it.
    if (Status st = check_creatable_file(*db); !st.ok()) return c.error("db", st.message());
    path_ = *db;
    return Status::Ok();
  }
  Result<std::unique_ptr<info::CatalogStore>> open_catalog() override {
    std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);  // open says why not
    auto store = SqliteCatalogStore::open(path_);
    if (!store.ok()) return store.status();
    return std::unique_ptr<info::CatalogStore>(std::move(store.value()));
  }
  Result<std::unique_ptr<info::LoginThrottle>> open_login_throttle(
      const info::LoginLimiter::Limits& limits, const Clock& clock) override {
    return std::unique_ptr<info::LoginThrottle>(
        std::make_unique<info::MemoryLoginThrottle>(limits, clock));
  }
  std::string describe() const override { return "catalog '" + path_ + "'"; }

 private:
  std::string path_;
};
}  // namespace

class InfoSqlite final : public info::InfoServer {
 public:
  explicit InfoSqlite(HostServices& host)
      : InfoServer(host, "info-sqlite", std::make_unique<SqliteStores>()) {}
};

}  // namespace dfd::info_sqlite

namespace {
const dfd::PluginKind kNeeds[] = {dfd::PluginKind::kAuth, dfd::PluginKind::kBroker};
}

DFD_PLUGIN_WITH_CHECK(
    dfd::PluginKind::kInfo, "info-sqlite", "1.0.0",
    "Information server API: login, catalog from events, manifests, download tokens", kNeeds, 2,
    &dfd::create_plugin<dfd::info_sqlite::InfoSqlite>,
    &dfd::destroy_plugin<dfd::info_sqlite::InfoSqlite>,
    &dfd::check_plugin<dfd::info_sqlite::InfoSqlite>)
