// The info API's test environment: one info plugin instance (info-sqlite, or info-postgres when
// built with DFD_INFO_TEST_POSTGRES) over the Auth and Broker doubles and the FakeHost, with
// helpers to log in, announce files and send heartbeats. Shared by info_sqlite_test (built once
// per store) and info_postgres_test.
#pragma once

#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "dfd/chunks.hpp"
#include "dfd/events.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "info_doubles.hpp"
#ifdef DFD_INFO_TEST_POSTGRES
#include "postgres_fixture.hpp"
#endif

namespace dfd::test {

#ifdef DFD_INFO_TEST_POSTGRES
constexpr const char* kInfoPlugin = "info-postgres";
#else
constexpr const char* kInfoPlugin = "info-sqlite";
#endif

inline constexpr const char* kAdmin = "admin@example.com";
inline constexpr const char* kAdminPw = "correct horse battery";

inline std::string hex64(int n) {
  std::string h = sha256_hex("file-" + std::to_string(n));
  return h;
}

// A store that outlives the envs using it: a SQLite path in `dir`, or a fresh PostgreSQL
// database.
inline std::string lasting_store(TempDir& dir) {
#ifdef DFD_INFO_TEST_POSTGRES
  static int databases = 0;
  (void)dir;
  return shared_postgres().create_database("info_lasting_" + std::to_string(++databases));
#else
  return dir.file("catalog.db");
#endif
}

// One info plugin instance over doubles: info-sqlite with its catalog in a file of the env's
// TempDir, or, built with DFD_INFO_TEST_POSTGRES, info-postgres on a fresh database of the test
// binary's PostgreSQL (tests/support/postgres_fixture.hpp). `store`: share another env's store
// (its `store` member: a SQLite path or a PostgreSQL DSN); null: a fresh one. `users`: the auth
// plugin the info plugin finds (outliving the env); null: the env's FakeAuth. Members are
// destroyed in reverse: the plugin first.
struct InfoEnv {
  explicit InfoEnv(std::map<std::string, ConfigValue> extra = {},
                   const std::string* shared_store = nullptr, bool start = true,
                   Auth* users = nullptr) {
    ::setenv("DFD_TEST_INFO_ADMIN_PW", kAdminPw, 1);
    std::map<std::string, ConfigValue> cfg{
        {"admin_email", std::string(kAdmin)},
        {"admin_password_env", std::string("DFD_TEST_INFO_ADMIN_PW")}};
#ifdef DFD_INFO_TEST_POSTGRES
    PostgresInstance& pg = shared_postgres();
    if (!pg.ok()) {
      status = Status::Unavailable("PostgreSQL: " + pg.error());
      return;
    }
    static int databases = 0;
    store = shared_store ? *shared_store
                         : pg.create_database("info_env_" + std::to_string(++databases));
    for (auto& [k, v] : pg.plugin_config(store)) cfg[k] = v;
    cfg["refresh_ms"] = std::int64_t(200);
#else
    store = shared_store ? *shared_store : dir.file("info.db");
    cfg["db"] = store;
#endif
    for (auto& [k, v] : extra) cfg[k] = v;
    host = std::make_unique<FakeHost>(cfg, kInfoPlugin);
    host->add_plugin(PluginKind::kAuth, "auth-fake", users ? users : &auth);
    host->add_plugin(PluginKind::kBroker, "broker-fake", &broker);
    auto p = load_plugin(kInfoPlugin, *host, start);
    status = p.status();
    if (p.ok()) info = std::move(p.value());
  }

  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& token = "", std::map<std::string, std::string> query = {},
                    const std::string& body = "", const std::string& peer = "127.0.0.1") {
    HttpRequest q;
    if (!token.empty()) q.headers["authorization"] = "Bearer " + token;
    q.query = std::move(query);
    q.body = body;
    q.peer = peer;
    return host->call(method, path, q);
  }
  HttpResponse login(const std::string& email, const std::string& pw,
                     const std::string& peer = "127.0.0.1") {
    return call("POST", "/v1/auth/login", "", {},
                nlohmann::json{{"email", email}, {"password", pw}}.dump(), peer);
  }
  std::string admin_token() {
    auto r = login(kAdmin, kAdminPw);
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body)["token"].get<std::string>();
  }
  std::string user_token(const std::string& email = "user@example.com") {
    auto created = auth.create_user(email, "User", "user-password", "user");
    EXPECT_TRUE(created.ok());
    auto r = login(email, "user-password");
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body)["token"].get<std::string>();
  }
  Status announce(const std::string& server, const std::string& zone, int n,
                  std::uint64_t size = 10, std::uint64_t chunk = 4) {
    events::FileAvailable f;
    f.server_id = server;
    f.zone = zone;
    f.url = "http://127.0.0.1:91" + std::to_string(server.size()) + "/" + server;
    f.uid = hex64(n);
    f.name = "file-" + std::to_string(n) + ".bin";
    f.size = size;
    f.alg = "sha256";
    f.chunk_size = chunk;
    for (std::uint64_t i = 0; i < dfd::chunk_count(size, chunk); ++i) {
      f.chunks.push_back(sha256_hex(f.uid + std::to_string(i)));
    }
    return broker.deliver(events::server_routing_key(events::kFileAvailable, f.server_id),
                          events::encode_file_available(f));
  }
  Status heartbeat(const std::string& server, const std::string& zone) {
    events::Heartbeat h{server, zone,
                        "http://127.0.0.1:91" + std::to_string(server.size()) + "/" + server, 2000,
                        1};
    return broker.deliver(events::server_routing_key(events::kServerHeartbeat, server),
                          events::encode_heartbeat(h));
  }
  std::int64_t file_id(int n) {
    auto r = call("GET", "/v1/files", admin_token(), {{"limit", "1000"}});
    EXPECT_EQ(r.status, 200) << r.body;
    nlohmann::json j = nlohmann::json::parse(r.body);
    for (auto& f : j["files"]) {
      if (f["uid"] == hex64(n)) return f["id"].get<std::int64_t>();
    }
    ADD_FAILURE() << "file " << n << " not listed: " << r.body << "\n" << host->log_text();
    return -1;
  }

  KeepLibrary keep{kInfoPlugin};
  TempDir dir;
  std::string store;
  FakeAuth auth;
  FakeBroker broker;
  std::unique_ptr<FakeHost> host;
  Status status;
  LoadedPlugin info;
};

}  // namespace dfd::test
