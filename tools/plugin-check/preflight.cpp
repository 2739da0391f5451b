// Step 1: is the file a dfd plugin of the asked kind? Every refusal names the file; the loader's
// refusals are the host's own messages.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "check_instance.hpp"
#include "dfd/abi.hpp"
#include "logging.hpp"

namespace dfd::plugin_check {
using host::HostConfig;
using host::load_host_config;
using host::parse_host_config;

namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "libdfd-";
constexpr const char* kSuffix = ".so";

// NAME of ".../libdfd-NAME.so", or "" when the file name has another form.
std::string plugin_name_of(const fs::path& file) {
  const std::string f = file.filename().string();
  const std::string pre = kPrefix, suf = kSuffix;
  if (f.size() <= pre.size() + suf.size() || f.compare(0, pre.size(), pre) != 0 ||
      f.compare(f.size() - suf.size(), suf.size(), suf) != 0) {
    return {};
  }
  return f.substr(pre.size(), f.size() - pre.size() - suf.size());
}

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

void print_header(const CheckPlan& plan, const PluginDescriptor& d) {
  std::printf("%s %s: %s plugin, ABI %u.%u (this checker %u.%u), %s\n", plan.name.c_str(),
              d.version, kind_name(d.kind), d.abi_major, d.abi_minor, kAbiMajor, kAbiMinor,
              plan.file.c_str());
  for (const AbiAbility& a : missing_abilities(d.kind, d.abi_minor)) {
    std::printf("missing ability (added in ABI %u.%u): %s\n", kAbiMajor, a.minor, a.name);
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
  plan->name = plugin_name_of(path);
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
