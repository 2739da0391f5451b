// dfd-plugin-check: loads one plugin through the host's real loader (dfd_host_core's PluginSet)
// and runs its kind's conformance suite (sdk/include/dfd/testing/*_conformance.hpp) against it.
//
//   dfd-plugin-check --kind storage|auth|broker|digest --plugin PATH/libdfd-NAME.so
//                    [--config FILE] [--filter SUBSTR] [--list] [--log-level LEVEL]
//
// Steps (docs/plugins.md "dfd-plugin-check"):
//   1. preflight (preflight.cpp): the file exists, is named libdfd-NAME.so and is a shared
//      library; the loader accepts it (entry symbol, descriptor size, ABI major, build signature,
//      name); its descriptor's kind is --kind. Prints a header (name, version, kind, ABI, missing
//      abilities of an older minor). Any refusal: the message on stderr, exit 2.
//   2. a trial load of the composed config (check_config.cpp) with create(), check() and start():
//      a config error exits 2 with the loader's message.
//   3. each check of the suite (conformance_runner.cpp) runs on a fresh CheckInstance
//      (check_instance.hpp): its own temp dir, DFD_CHECK_DIR / DFD_CHECK_ROOT exported, the
//      config composed again, the plugins loaded, checked and started, stopped and unloaded after.
//      One line per check (PASS / FAIL / SKIP) and a summary; exit 0 when nothing failed, else 1.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config.hpp"
#include "dfd/host_services.hpp"
#include "dfd/plugin.hpp"

namespace dfd::plugin_check {

// Exit codes.
inline constexpr int kExitPassed = 0;
inline constexpr int kExitFailed = 1;   // a check failed
inline constexpr int kExitRefused = 2;  // usage, file, load or config error

// The command line.
struct Options {
  std::string kind;    // storage|auth|broker|digest
  std::string plugin;  // PATH/libdfd-NAME.so
  std::string config;  // optional dfd-host config
  std::string filter;  // optional: only checks whose name contains it
  bool list = false;   // print the check names and exit
  LogLevel log_level = LogLevel::kError;
};

// What every check of one run shares.
struct CheckPlan {
  PluginKind kind = PluginKind::kStorage;
  std::string name;         // NAME of libdfd-NAME.so
  std::string file;         // absolute path of the library
  std::string dir;          // its directory: first in the composed config's plugin_path
  std::string config_file;  // --config, or "" for the generated config
  std::vector<PluginKind> requires_kinds;          // from the descriptor
  std::map<std::string, PluginKind> config_kinds;  // kinds of --config's other plugins
  LogLevel log_level = LogLevel::kError;
};

// The name the generated config has in messages.
inline constexpr const char* kGeneratedConfigName = "dfd-plugin-check";

// "storage" → PluginKind::kStorage, for the four kinds that have a suite; false otherwise.
bool parse_kind(const std::string& text, PluginKind* kind);

// Preflight (step 1). On success fills `plan` and has printed the header; on a refusal returns
// the message (the caller prints it and exits 2).
Status preflight(const Options& options, CheckPlan* plan);

// The host config of one check (step 2/3): --config's [[plugin]] named plan.name and the first
// plugin of each kind it requires, else the generated one (the plugin with its kind's default
// table); a required kind still missing gets its default plugin (digest-openssl, broker-local,
// auth-hmac, storage-fs). plan.dir goes first in plugin_path. ${VAR} is expanded now, so export
// DFD_CHECK_* first.
Result<host::HostConfig> compose_config(const CheckPlan& plan);

// The loader's message, without the generated config's "dfd-plugin-check:LINE: [[plugin]] 'N': "
// position (which names no file of the user's).
std::string loader_message(const CheckPlan& plan, const Status& status);

// Steps 2 and 3; returns the exit code.
int run_checks(const CheckPlan& plan, const Options& options);
// --list: the names of the checks of `kind` containing `filter`, one a line; returns the exit code.
int list_checks(PluginKind kind, const std::string& filter);

}  // namespace dfd::plugin_check
