// A HostServices for unit and conformance tests: config from a map, logs to a string, metrics
// kept in memory, a settable clock, plugin lookup from a list the test fills. Also loads a plugin
// library through Boost.DLL the same way the host does (without the host's checks).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "dfd/dfd.hpp"

namespace dfd::test {

using ConfigValue = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

class FakeHost : public HostServices {
 public:
  explicit FakeHost(std::map<std::string, ConfigValue> config = {},
                    std::string plugin_name = "test");
  ~FakeHost() override;

  Logger& logger() noexcept override;
  const Config& config() const noexcept override;
  Metrics& metrics() noexcept override;
  const Clock& clock() const noexcept override;
  const ServerIdentity& server() const noexcept override { return server_; }
  HttpRoutes& http() noexcept override;
  Plugin* find_plugin(PluginKind kind, std::string_view name = {}) noexcept override;

  // Test controls.
  ServerIdentity& mutable_server() { return server_; }
  void add_plugin(PluginKind kind, std::string name, Plugin* p) {
    plugins_.push_back({kind, std::move(name), p});
  }
  // Moves the clock (both wall and steady) forward.
  void advance(std::chrono::milliseconds d);
  std::string log_text() const;
  double metric(const std::string& name, const Labels& labels = {}) const;
  // Registered routes: "GET /v1/files/:id" → handler.
  std::map<std::string, HttpHandler>& routes();
  // Calls a registered route with params extracted from `path` (e.g. "/v1/files/7").
  HttpResponse call(const std::string& method, const std::string& path, HttpRequest req = {});

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  ServerIdentity server_{"test-server", "zone-a", "http://127.0.0.1:1", "/tmp"};
  struct Entry {
    PluginKind kind;
    std::string name;
    Plugin* plugin;
  };
  std::vector<Entry> plugins_;
};

// A plugin instance loaded from build/plugins/libdfd-NAME.so; destroys the instance (after
// stop()) before the library is unloaded.
class LoadedPlugin {
 public:
  LoadedPlugin() = default;
  ~LoadedPlugin();
  LoadedPlugin(LoadedPlugin&&) noexcept;
  LoadedPlugin& operator=(LoadedPlugin&&) noexcept;

  Plugin* get() const { return instance_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(instance_);
  }
  const PluginDescriptor* descriptor() const { return desc_; }
  void stop();  // calls stop() once

  struct Lib;

 private:
  friend Result<LoadedPlugin> load_plugin(const std::string&, HostServices&, bool);
  std::shared_ptr<Lib> lib_;
  const PluginDescriptor* desc_ = nullptr;
  Plugin* instance_ = nullptr;
  bool stopped_ = true;
};

// Loads `name` ("storage-fs") from plugin_dir(), creates an instance with `host`, and (if `start`)
// starts it. Errors carry the plugin's Status.
Result<LoadedPlugin> load_plugin(const std::string& name, HostServices& host, bool start = true);

}  // namespace dfd::test
