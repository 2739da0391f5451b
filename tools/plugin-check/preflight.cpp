// Step 1: is the file a dfd plugin of the asked kind? Every refusal names the file; the loader's
// refusals are the host's own messages.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "check_instance.hpp"
#include "logging.hpp"

namespace dfd::plugin_check {
using host::HostConfig;
using host::load_host_config;
using host::parse_host_config;

namespace fs = std::filesystem;

namespace {

bool has_elf_header(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, sizeof magic) && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
         magic[3] == 'F';
}

// A PluginSet with throw-away services, for reading descriptors only.
struct Probe {
  explicit Probe(LogLevel level)
      : identity{kGeneratedConfigName, "default", "", ""},
        shared{metrics, clock, identity, routes, level},
        set(shared, host::make_logger(kGeneratedConfigName, level)) {}
  host::MetricsRegistry metrics;
  AdvancingClock clock;
  host::RouteTable routes;
  ServerIdentity identity;
  host::SharedServices shared;
  host::PluginSet set;
};

// The kinds of --config's plugins other than the checked one (those that load; a plugin that
// does not load is reported by the trial load if it was needed).
void read_config_kinds(const CheckPlan& plan, std::map<std::string, PluginKind>* kinds) {
  // The config may name ${DFD_CHECK_DIR} / ${DFD_CHECK_ROOT}: give them a value for expansion.
  for (const char* var : {"DFD_CHECK_ID", "DFD_CHECK_DIR", "DFD_CHECK_ROOT"}) {
    ::setenv(var, "/nonexistent", 0);
  }
  auto cfg = load_host_config(plan.config_file);
  if (cfg.ok()) {
    for (const auto& e : cfg->plugins) {
      if (e.name == plan.name) continue;
      HostConfig one = *cfg;
      one.plugins = {e};
      Probe probe(plan.log_level);
      if (probe.set.load_libraries(one).ok() && !probe.set.plugins().empty()) {
        kinds->emplace(e.name, probe.set.plugins().front()->desc->kind);
      }
      probe.set.unload();
    }
  }
  for (const char* var : {"DFD_CHECK_ID", "DFD_CHECK_DIR", "DFD_CHECK_ROOT"}) ::unsetenv(var);
}

// "NAME VERSION: KIND plugin, ABI 2.4 (this checker 2.4), FILE", then the loader's words for
// another minor and for each ability an older one lacks.
void print_header(const CheckPlan& plan, const PluginDescriptor& d) {
  std::printf("%s %s: %s plugin, ABI %s (this checker %s), %s\n", plan.name.c_str(), d.version,
              kind_name(d.kind), host::abi_version(d.abi_major, d.abi_minor).c_str(),
              host::abi_version(kAbiMajor, kAbiMinor).c_str(), plan.file.c_str());
  if (std::string abi = host::describe_abi(d); !abi.empty()) std::printf("%s\n", abi.c_str());
  for (const std::string& m : host::describe_missing_abilities(d)) {
    std::printf("missing ability: %s\n", m.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

Status preflight(const Options& options, CheckPlan* plan) {
  if (!parse_kind(options.kind, &plan->kind)) {
    return Status::InvalidArgument("--kind '" + options.kind +
                                   "': expected storage, auth, broker or digest");
  }
  plan->log_level = options.log_level;
  plan->config_file = options.config;
  std::error_code ec;
  const fs::path path(options.plugin);
  if (!fs::exists(path, ec)) return Status::NotFound(options.plugin + ": no such file");
  if (!fs::is_regular_file(path, ec))
    return Status::InvalidArgument(options.plugin + ": not a file");
  plan->name = host::plugin_name_of_file(path.filename().string());
  if (plan->name.empty()) {
    return Status::InvalidArgument(options.plugin +
                                   ": not a plugin's file name: a dfd plugin is libdfd-NAME.so "
                                   "(the host finds plugin NAME by that name)");
  }
  plan->file = fs::absolute(path, ec).lexically_normal().string();
  plan->dir = fs::path(plan->file).parent_path().string();
  if (!has_elf_header(plan->file)) {
    return Status::InvalidArgument(plan->file +
                                   ": not a shared library (no ELF header); a dfd plugin is a "
                                   "shared library made with DFD_PLUGIN (dfd/plugin.hpp)");
  }

  // The loader's own checks: entry symbol, descriptor size, ABI major, build signature, name.
  auto cfg = parse_host_config("[server]\nid = \"" + std::string(kGeneratedConfigName) +
                                   "\"\n[[plugin]]\nname = \"" + plan->name + "\"\n",
                               kGeneratedConfigName);
  if (!cfg.ok()) return cfg.status();  // a NAME the config syntax refuses
  cfg->plugin_path.insert(cfg->plugin_path.begin(), plan->dir);
  Probe probe(plan->log_level);
  Status st = probe.set.load_libraries(*cfg);
  if (!st.ok()) return Status(st.code(), loader_message(*plan, st));
  const PluginDescriptor& d = *probe.set.plugins().front()->desc;
  if (d.kind != plan->kind) {
    return Status::InvalidArgument(plan->file + ": a '" + kind_name(d.kind) +
                                   "' plugin (its descriptor's kind), not '" + options.kind +
                                   "' (--kind " + options.kind + ")");
  }
  plan->requires_kinds.assign(d.requires_kinds, d.requires_kinds + d.requires_count);
  print_header(*plan, d);
  probe.set.unload();
  if (!plan->config_file.empty() && !plan->requires_kinds.empty()) {
    read_config_kinds(*plan, &plan->config_kinds);
  }
  return Status::Ok();
}

}  // namespace dfd::plugin_check
