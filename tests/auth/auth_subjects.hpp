// Test subjects for the auth plugins: a FakeHost (config, clock) plus the plugin loaded through
// its real shared library, in a private temporary directory.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>

#include "dfd/testing/auth_conformance.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "postgres_fixture.hpp"

namespace dfd::authtest {

class PluginSubject : public conformance::AuthSubject {
 public:
  // Loads `plugin` with `config`; on failure, error() holds the plugin's Status.
  PluginSubject(const std::string& plugin, std::map<std::string, test::ConfigValue> config)
      : host_(std::move(config), plugin) {
    auto p = test::load_plugin(plugin, host_);
    if (p.ok()) {
      plugin_ = std::move(p.value());
    } else {
      error_ = p.status();
    }
  }
  Auth& auth() override { return *plugin_.as<Auth>(); }
  void advance(std::chrono::milliseconds d) override { host_.advance(d); }
  bool loaded() const { return plugin_.get() != nullptr; }
  const Status& error() const { return error_; }
  test::FakeHost& host() { return host_; }

 private:
  test::FakeHost host_;
  test::LoadedPlugin plugin_;  // destroyed before host_
  Status error_;
};

// A subject that also owns its temporary directory (removed after the plugin is destroyed).
template <typename ConfigFn>
std::unique_ptr<conformance::AuthSubject> make_subject(const std::string& plugin, ConfigFn fn) {
  struct Owned : conformance::AuthSubject {
    test::TempDir dir;
    std::unique_ptr<PluginSubject> s;
    Auth& auth() override { return s->auth(); }
    void advance(std::chrono::milliseconds d) override { s->advance(d); }
  };
  auto o = std::make_unique<Owned>();
  o->s = std::make_unique<PluginSubject>(plugin, fn(o->dir));
  if (!o->s->loaded()) {
    ADD_FAILURE() << "cannot load " << plugin << ": " << o->s->error().to_string();
    return nullptr;
  }
  return o;
}

inline std::map<std::string, test::ConfigValue> sqlite_config(const std::string& db) {
  return {{"db", db}, {"kdf_iterations", std::int64_t{1000}}};
}

inline std::map<std::string, test::ConfigValue> hmac_config(const std::string& key_file,
                                                            bool create = true) {
  return {{"key_file", key_file}, {"create_key", create}};
}

// auth-postgres on a fresh database of the test binary's PostgreSQL (tests/support
// postgres_fixture.hpp); "" when the server or the database could not be made (test failure).
inline std::map<std::string, test::ConfigValue> postgres_config(const std::string& db_prefix) {
  static int serial = 0;
  auto& pg = test::shared_postgres();
  if (!pg.ok()) {
    ADD_FAILURE() << pg.error();
    return {};
  }
  auto cfg = pg.plugin_config(pg.create_database(db_prefix + "_" + std::to_string(++serial)));
  cfg["kdf_iterations"] = std::int64_t{1000};
  cfg["pool_size"] = std::int64_t{4};
  return cfg;
}

}  // namespace dfd::authtest
