// The host config of one check, and the loader's messages about it.
#include <algorithm>

#include "plugin_check.hpp"

namespace dfd::plugin_check {
using host::HostConfig;
using host::load_host_config;
using host::parse_host_config;
using host::PluginEntry;

namespace {

// What a plugin of each kind gets without --config, and the plugin that provides a required kind
// that --config does not list (docs/plugins.md "dfd-plugin-check").
struct KindDefaults {
  PluginKind kind;
  const char* table;     // keys of the checked plugin's generated [[plugin]] table
  const char* provider;  // the plugin that provides this kind to another one
  const char* provider_table;
};

constexpr KindDefaults kDefaults[] = {
    {PluginKind::kStorage, "root = \"${DFD_CHECK_ROOT}\"\n", "storage-fs",
     "root = \"${DFD_CHECK_ROOT}\"\nsettle_ms = 0\n"},
    {PluginKind::kAuth, "", "auth-hmac",
     "key_file = \"${DFD_CHECK_DIR}/auth-hmac.key\"\ncreate_key = true\n"},
    {PluginKind::kBroker, "", "broker-local", ""},
    {PluginKind::kDigest, "", "digest-openssl", ""},
};

const KindDefaults* defaults_of(PluginKind kind) {
  for (const auto& d : kDefaults) {
    if (d.kind == kind) return &d;
  }
  return nullptr;
}

// A generated config holding one [[plugin]] table.
Result<HostConfig> generated(const std::string& name, const char* table) {
  std::string text = "[server]\nid = \"" + std::string(kGeneratedConfigName) +
                     "\"\n\n[[plugin]]\nname = \"" + name + "\"\n" + table;
  return parse_host_config(text, kGeneratedConfigName);
}

}  // namespace

bool parse_kind(const std::string& text, PluginKind* kind) {
  for (const auto& d : kDefaults) {
    if (text == kind_name(d.kind)) {
      *kind = d.kind;
      return true;
    }
  }
  return false;
}

Result<HostConfig> compose_config(const CheckPlan& plan) {
  HostConfig cfg;
  std::vector<PluginKind> covered;
  if (plan.config_file.empty()) {
    const KindDefaults* d = defaults_of(plan.kind);
    auto g = generated(plan.name, d ? d->table : "");
    if (!g.ok()) return g.status();
    cfg = std::move(g).value();
  } else {
    auto loaded = load_host_config(plan.config_file);
    if (!loaded.ok()) return loaded.status();
    cfg = std::move(loaded).value();
    std::vector<PluginEntry> keep;
    bool found = false;
    for (const auto& e : cfg.plugins) {
      if (e.name == plan.name) {
        found = true;
        keep.push_back(e);
        continue;
      }
      auto k = plan.config_kinds.find(e.name);
      if (k == plan.config_kinds.end()) continue;
      bool required = std::find(plan.requires_kinds.begin(), plan.requires_kinds.end(),
                                k->second) != plan.requires_kinds.end();
      bool already = std::find(covered.begin(), covered.end(), k->second) != covered.end();
      if (required && !already) {
        covered.push_back(k->second);
        keep.push_back(e);
      }
    }
    if (!found) {
      return Status::NotFound(plan.config_file + ": no [[plugin]] named '" + plan.name +
                              "' (the plugin checked, from the name of " + plan.file + ")");
    }
    cfg.plugins = std::move(keep);
  }
  for (PluginKind k : plan.requires_kinds) {
    if (std::find(covered.begin(), covered.end(), k) != covered.end()) continue;
    const KindDefaults* d = defaults_of(k);
    if (d == nullptr) continue;  // the loader says which kind is missing
    auto g = generated(d->provider, d->provider_table);
    if (!g.ok()) return g.status();
    cfg.plugins.push_back(g->plugins.front());  // keeps its parsed table alive
    covered.push_back(k);
  }
  cfg.plugin_path.insert(cfg.plugin_path.begin(), plan.dir);
  return cfg;
}

std::string loader_message(const CheckPlan& plan, const Status& status) {
  const std::string& m = status.message();
  const std::string prefix = std::string(kGeneratedConfigName) + ":";
  if (m.compare(0, prefix.size(), prefix) != 0) return m;
  // "dfd-plugin-check:5: [[plugin]] 'NAME': rest" → "rest"
  const std::string table = ": [[plugin]] '";
  std::size_t t = m.find(table, prefix.size());
  if (t == std::string::npos) return m;
  std::size_t end = m.find("': ", t + table.size());
  return end == std::string::npos ? m : m.substr(end + 3);
}

}  // namespace dfd::plugin_check
