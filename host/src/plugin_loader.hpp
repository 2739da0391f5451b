// Loading, checking and running the plugins listed in a host config.
//
// Rules (docs/host.md "Loader"): each [[plugin]] name resolves to libdfd-NAME.so in the config's
// plugin_path, then <dir of dfd-host>/../lib/dfd/plugins (installed), then <dir of
// dfd-host>/../plugins (build tree), then the compiled-in <install prefix>/lib/dfd/plugins. The
// library is loaded with Boost.DLL (RTLD_LOCAL | RTLD_NOW) on the main thread and checked, in this
// order: entry symbol, ABI major, descriptor size, build signature, descriptor name; then no name
// is listed twice and every required kind is present. Versioning (dfd/plugin.hpp, dfd/abi.hpp):
// any minor of the host's major loads; a plugin of an older minor is logged once at load (warn)
// with the abilities it lacks (describe_missing_abilities below, also printed by --check and
// dfd-plugin-check). Every create() runs before any start();
// plugins start in dependency order and stop in reverse, are destroyed, and only then unloaded.
//
// Thread-safety: everything here runs on the main thread, except find(), which is safe from any
// thread once load() has returned (the plugin list no longer changes).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "config.hpp"
#include "dfd/plugin.hpp"
#include "logging.hpp"
#include "metrics.hpp"

namespace boost::dll {
class shared_library;
}

namespace dfd::host {

class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steady_now() const noexcept override {
    return std::chrono::steady_clock::now();
  }
};

// What every plugin's HostServices shares; owned by the host, outlives every plugin.
struct SharedServices {
  MetricsRegistry& metrics;
  const Clock& clock;
  const ServerIdentity& server;
  HttpRoutes& routes;
  LogLevel level;
};

// Issue 15 (dfd-plugin-check): NAME of a library file named "libdfd-NAME.so", "" for any other
// file name (the one home of the naming rule's parsing).
std::string plugin_name_of_file(std::string_view file);
// Issue 15 (versioning): "2.4".
std::string abi_version(std::uint32_t major, std::uint32_t minor);
// The --version line of dfd-host and dfd-plugin-check: "PROGRAM VERSION (plugin ABI 2.4,
// <build signature>)", what a plugin must match.
std::string version_banner(const std::string& program, const std::string& version);
// What a plugin of this major built against an older minor lacks, one line per ability, oldest
// first: "ABI 2.2 added Auth::list_users, count_users, set_password". Empty for a plugin of this
// minor or newer. The one wording of it: the load log, --check and dfd-plugin-check use it.
std::vector<std::string> describe_missing_abilities(const PluginDescriptor& d);
// How a plugin's ABI relates to the host's, "" when it is the host's own: "built for plugin ABI
// 2.1, this host has ABI 2.4" (then describe_missing_abilities lists what it lacks), or "built for
// plugin ABI 2.9, newer than this host's ABI 2.4 (its newer abilities are not used)".
std::string describe_abi(const PluginDescriptor& d);

class PluginSet;

// HostServices for one plugin.
class PluginServices final : public HostServices {
 public:
  PluginServices(SharedServices& shared, PluginSet& set, std::unique_ptr<TomlConfig> config,
                 const std::string& name);
  Logger& logger() noexcept override { return logger_; }
  const Config& config() const noexcept override { return *config_; }
  Metrics& metrics() noexcept override { return shared_.metrics; }
  const Clock& clock() const noexcept override { return shared_.clock; }
  const ServerIdentity& server() const noexcept override { return shared_.server; }
  HttpRoutes& http() noexcept override { return shared_.routes; }
  Plugin* find_plugin(PluginKind kind, std::string_view name = {}) noexcept override;

 private:
  SharedServices& shared_;
  PluginSet& set_;
  std::unique_ptr<TomlConfig> config_;
  PluginLogger logger_;
};

// One loaded plugin. Member order matters: the instance goes first, then its services, and the
// library last (the instance's deleter also holds a reference to the library).
struct LoadedPlugin {
  std::string name;
  std::string file;  // full path of the library
  int line = 0;      // of its [[plugin]] table
  const PluginDescriptor* desc = nullptr;
  std::shared_ptr<boost::dll::shared_library> library;
  std::unique_ptr<PluginServices> services;
  std::shared_ptr<Plugin> instance;
  bool started = false;
};

class PluginSet {
 public:
  PluginSet(SharedServices& shared, std::shared_ptr<spdlog::logger> host_log);
  ~PluginSet();  // stop_all() and unload()
  PluginSet(const PluginSet&) = delete;
  PluginSet& operator=(const PluginSet&) = delete;

  // The directories searched, in order, for a config's plugins.
  static std::vector<std::string> search_dirs(const HostConfig& cfg);

  // Resolves, loads, checks and creates every plugin of `cfg`. On error nothing stays loaded.
  Status load(const HostConfig& cfg);
  // Issue 15 (dfd-plugin-check): only resolves, loads and checks the libraries of `cfg` (entry,
  // descriptor size, ABI, build signature, name), creating nothing; plugins() then lists them with
  // their descriptors (no instances). On error nothing stays loaded. unload() ends it.
  Status load_libraries(const HostConfig& cfg);
  // Runs every plugin's descriptor `check` (ABI minor 3; skipped for older plugins) in start
  // order, after load() and before start_all(); --check runs it too. Nothing is started.
  Status check_all(const HostConfig& cfg);
  // Starts every plugin in dependency order; on error stops the started ones (reverse order).
  Status start_all();
  // Stops started plugins in reverse start order. Idempotent.
  void stop_all() noexcept;
  // Destroys every instance, then unloads every library. Idempotent.
  void unload() noexcept;

  // The named plugin of `kind`, or the first of that kind in config order (empty name). A wrapped
  // plugin is found as its wrapper.
  Plugin* find(PluginKind kind, std::string_view name = {}) const noexcept;
  // From now on find() (and every plugin's find_plugin()) returns `wrapper` where it would return
  // `original`, a loaded instance (the host's signed broker). The loaded plugin keeps its life
  // cycle and its place in plugins(). Main thread, after load() and before start_all(); `wrapper`
  // must outlive every plugin's stop().
  void wrap(Plugin* original, Plugin* wrapper);
  const std::vector<std::unique_ptr<LoadedPlugin>>& plugins() const { return plugins_; }

 private:
  Status load_one(const HostConfig& cfg, const PluginEntry& entry,
                  const std::vector<std::string>& dirs);
  Status check_requirements(const HostConfig& cfg) const;
  Status order_for_start(const HostConfig& cfg);

  SharedServices& shared_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<std::unique_ptr<LoadedPlugin>> plugins_;  // config order
  std::vector<LoadedPlugin*> start_order_;
  std::vector<LoadedPlugin*> started_;
  Plugin* wrapped_ = nullptr;
  Plugin* wrapper_ = nullptr;
};

}  // namespace dfd::host
