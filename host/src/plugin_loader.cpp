#include "plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include "dfd/abi.hpp"
#include "suggest.hpp"

#ifndef DFD_INSTALL_PLUGIN_DIR
#define DFD_INSTALL_PLUGIN_DIR "/usr/local/lib/dfd/plugins"
#endif

namespace dfd::host {
namespace fs = std::filesystem;

namespace {

std::string where(const HostConfig& cfg, const LoadedPlugin& p) {
  return cfg.file + ":" + std::to_string(p.line) + ": [[plugin]] '" + p.name + "': ";
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string o;
  for (const auto& s : v) {
    if (!o.empty()) o += sep;
    o += s;
  }
  return o;
}

// Names of every libdfd-NAME.so in `dirs`.
std::vector<std::string> available_plugins(const std::vector<std::string>& dirs) {
  std::set<std::string> names;
  for (const auto& d : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = plugin_name_of_file(it->path().filename().string());
      if (!name.empty()) names.insert(name);
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace

std::string plugin_name_of_file(std::string_view file) {
  const std::string_view pre = "libdfd-", suf = ".so";
  if (file.size() <= pre.size() + suf.size() || file.substr(0, pre.size()) != pre ||
      file.substr(file.size() - suf.size()) != suf) {
    return {};
  }
  return std::string(file.substr(pre.size(), file.size() - pre.size() - suf.size()));
}

std::string abi_version(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string version_banner(const std::string& program, const std::string& version) {
  return program + " " + version + " (plugin ABI " + abi_version(kAbiMajor, kAbiMinor) + ", " +
         kBuildSignature + ")";
}

std::vector<std::string> describe_missing_abilities(const PluginDescriptor& d) {
  std::vector<std::string> out;
  for (const AbiAbility& a : missing_abilities(d.kind, d.abi_minor)) {
    out.push_back("ABI " + abi_version(kAbiMajor, a.minor) + " added " + a.name);
  }
  return out;
}

std::string describe_abi(const PluginDescriptor& d) {
  const std::string mine = abi_version(d.abi_major, d.abi_minor);
  const std::string host = abi_version(kAbiMajor, kAbiMinor);
  if (d.abi_minor < kAbiMinor)
    return "built for plugin ABI " + mine + ", this host has ABI " + host;
  if (d.abi_minor > kAbiMinor) {
    return "built for plugin ABI " + mine + ", newer than this host's ABI " + host +
           " (its newer abilities are not used)";
  }
  return {};
}

PluginServices::PluginServices(SharedServices& shared, PluginSet& set,
                               std::unique_ptr<TomlConfig> config, const std::string& name)
    : shared_(shared),
      set_(set),
      config_(std::move(config)),
      logger_(make_logger(name, shared.level)) {}

Plugin* PluginServices::find_plugin(PluginKind kind, std::string_view name) noexcept {
  return set_.find(kind, name);
}

PluginSet::PluginSet(SharedServices& shared, std::shared_ptr<spdlog::logger> host_log)
    : shared_(shared), log_(std::move(host_log)) {}

PluginSet::~PluginSet() {
  stop_all();
  unload();
}

std::vector<std::string> PluginSet::search_dirs(const HostConfig& cfg) {
  std::vector<std::string> dirs = cfg.plugin_path;
  boost::system::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (!ec) {
    // Installed (P/bin/dfd-host → P/lib/dfd/plugins), then the build tree (build/bin →
    // build/plugins); each only where it exists, so that "not found" lists real places.
    const fs::path up = fs::path(exe.string()).parent_path().parent_path();
    for (const char* rel : {"lib/dfd/plugins", "plugins"}) {
      std::error_code dir_ec;
      if (fs::is_directory(up / rel, dir_ec)) dirs.push_back((up / rel).string());
    }
  }
  dirs.emplace_back(DFD_INSTALL_PLUGIN_DIR);
  // Drop repeats, keep order.
  std::vector<std::string> out;
  for (auto& d : dirs) {
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  }
  return out;
}

Plugin* PluginSet::find(PluginKind kind, std::string_view name) const noexcept {
  for (const auto& p : plugins_) {
    if (!p->instance || p->desc->kind != kind) continue;
    if (name.empty() || p->name == name) {
      return p->instance.get() == wrapped_ ? wrapper_ : p->instance.get();
    }
  }
  return nullptr;
}

void PluginSet::wrap(Plugin* original, Plugin* wrapper) {
  wrapped_ = original;
  wrapper_ = wrapper;
}

Status PluginSet::load(const HostConfig& cfg) {
  Status st = guard("loading plugins", [&]() -> Status {
    const auto dirs = search_dirs(cfg);
    for (const auto& e : cfg.plugins) {
      for (const auto& p : plugins_) {
        if (p->name == e.name) {
          return Status::AlreadyExists(cfg.file + ":" + std::to_string(e.line) + ": [[plugin]] '" +
                                       e.name + "' is listed twice (first at " + cfg.file + ":" +
                                       std::to_string(p->line) + "); plugin names must be unique");
        }
      }
      DFD_RETURN_IF_ERROR(load_one(cfg, e, dirs));
    }
    DFD_RETURN_IF_ERROR(check_requirements(cfg));
    DFD_RETURN_IF_ERROR(order_for_start(cfg));
    // Every create() (config validation) before any start().
    for (auto& p : plugins_) {
      auto config = std::make_unique<TomlConfig>(cfg.file, cfg.plugins[&p - &plugins_[0]]);
      p->services = std::make_unique<PluginServices>(shared_, *this, std::move(config), p->name);
      Status err;
      Plugin* raw = p->desc->create(*p->services, &err);
      if (!raw) {
        if (err.ok()) err = Status::Internal("create() returned no instance and no error");
        return Status(err.code(), where(cfg, *p) + p->file + ": create failed: " + err.to_string());
      }
      auto lib = p->library;
      auto destroy = p->desc->destroy;
      p->instance = std::shared_ptr<Plugin>(raw, [lib, destroy](Plugin* x) { destroy(x); });
    }
    return Status::Ok();
  });
  if (!st.ok()) unload();
  return st;
}

// Issue 15: dfd-plugin-check reads a plugin's kind and required kinds before composing its config.
Status PluginSet::load_libraries(const HostConfig& cfg) {
  Status st = guard("loading plugins", [&]() -> Status {
    const auto dirs = search_dirs(cfg);
    for (const auto& e : cfg.plugins) DFD_RETURN_IF_ERROR(load_one(cfg, e, dirs));
    return Status::Ok();
  });
  if (!st.ok()) unload();
  return st;
}

Status PluginSet::check_all(const HostConfig& cfg) {
  return guard("checking plugins", [&]() -> Status {
    for (LoadedPlugin* p : start_order_) {
      if (!descriptor_has_check(*p->desc) || !p->desc->check) continue;
      Status err = p->desc->check(p->instance.get());
      if (!err.ok()) {
        return Status(err.code(), where(cfg, *p) + p->file + ": check failed: " + err.to_string());
      }
    }
    return Status::Ok();
  });
}

Status PluginSet::load_one(const HostConfig& cfg, const PluginEntry& e,
                           const std::vector<std::string>& dirs) {
  auto p = std::make_unique<LoadedPlugin>();
  p->name = e.name;
  p->line = e.line;
  const std::string file = "libdfd-" + e.name + ".so";
  for (const auto& d : dirs) {
    std::error_code ec;
    if (fs::is_regular_file(fs::path(d) / file, ec)) {
      p->file = (fs::path(d) / file).string();
      break;
    }
  }
  const std::string at = cfg.file + ":" + std::to_string(e.line) + ": ";
  if (p->file.empty()) {
    std::string best = closest_name(e.name, available_plugins(dirs));
    return Status::NotFound(at + "unknown plugin '" + e.name + "' (no " + file +
                            " in: " + join(dirs, ", ") + ")" +
                            (best.empty() ? std::string() : "; did you mean '" + best + "'?"));
  }
  p->library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  dlerror();
  p->library->load(p->file, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now,
                   ec);
  if (ec) {
    const char* why = dlerror();
    return Status::Unavailable(where(cfg, *p) + p->file +
                               ": cannot load: " + (why ? std::string(why) : ec.message()));
  }
  if (!p->library->has(kEntrySymbol)) {
    return Status::InvalidArgument(where(cfg, *p) + p->file + ": no entry symbol '" + kEntrySymbol +
                                   "' (not a dfd plugin? use DFD_PLUGIN)");
  }
  auto& entry = p->library->get_alias<PluginEntryFn>(kEntrySymbol);
  const PluginDescriptor* d = entry();
  if (!d) {
    return Status::InvalidArgument(where(cfg, *p) + p->file + ": entry returned no descriptor");
  }
  // The major first (struct_size, abi_major and abi_minor lead every major's descriptor): a
  // plugin of another major gets the message that says so, whatever its descriptor's size.
  if (d->struct_size >= offsetof(PluginDescriptor, kind) && d->abi_major != kAbiMajor) {
    return Status::InvalidArgument(where(cfg, *p) + p->file + ": built for plugin ABI " +
                                   abi_version(d->abi_major, d->abi_minor) +
                                   ", this host has ABI " + abi_version(kAbiMajor, kAbiMinor) +
                                   " (rebuild it against this host's SDK)");
  }
  if (d->struct_size < kDescriptorMinSize) {
    return Status::InvalidArgument(where(cfg, *p) + p->file + ": descriptor size " +
                                   std::to_string(d->struct_size) + ", host needs at least " +
                                   std::to_string(kDescriptorMinSize));
  }
  std::string sig = d->build_signature ? d->build_signature : "(null)";
  if (sig != kBuildSignature) {
    return Status::InvalidArgument(where(cfg, *p) + p->file + ": build signature '" + sig +
                                   "', host has '" + kBuildSignature + "'");
  }
  std::string dname = d->name ? d->name : "(null)";
  if (dname != e.name) {
    return Status::InvalidArgument(where(cfg, *p) + p->file + ": descriptor name '" + dname +
                                   "', expected '" + e.name + "' (from the file name)");
  }
  if (!d->create || !d->destroy || !d->version || (d->requires_count > 0 && !d->requires_kinds)) {
    return Status::InvalidArgument(where(cfg, *p) + p->file +
                                   ": descriptor is incomplete (create, destroy, version or "
                                   "requires_kinds missing)");
  }
  p->desc = d;
  // Issue 15: a plugin of another minor loads; say once what an older one lacks.
  if (std::string abi = describe_abi(*d); !abi.empty()) {
    const auto missing = describe_missing_abilities(*d);
    if (d->abi_minor < kAbiMinor) {
      log_->warn(
          "plugin '{}' ({}): {}; it lacks: {}", p->name, p->file, abi,
          missing.empty() ? std::string("nothing a plugin of its kind has") : join(missing, "; "));
    } else {
      log_->info("plugin '{}' ({}): {}", p->name, p->file, abi);
    }
  }
  plugins_.push_back(std::move(p));
  return Status::Ok();
}

Status PluginSet::check_requirements(const HostConfig& cfg) const {
  for (const auto& p : plugins_) {
    for (std::uint32_t i = 0; i < p->desc->requires_count; ++i) {
      PluginKind k = p->desc->requires_kinds[i];
      bool found = false;
      for (const auto& q : plugins_) found = found || (q.get() != p.get() && q->desc->kind == k);
      if (!found) {
        std::vector<std::string> listed;
        for (const auto& q : plugins_) {
          listed.push_back(q->name + " (" + kind_name(q->desc->kind) + ")");
        }
        return Status::FailedPrecondition(
            where(cfg, *p) + p->file + ": requires a plugin of kind '" + kind_name(k) +
            "', but none is listed (listed: " + join(listed, ", ") + ")");
      }
    }
  }
  return Status::Ok();
}

Status PluginSet::order_for_start(const HostConfig& cfg) {
  start_order_.clear();
  std::vector<LoadedPlugin*> pending;
  for (auto& p : plugins_) pending.push_back(p.get());
  auto ready = [&](const LoadedPlugin* p) {
    for (std::uint32_t i = 0; i < p->desc->requires_count; ++i) {
      for (const auto* q : pending) {
        if (q != p && q->desc->kind == p->desc->requires_kinds[i]) return false;
      }
    }
    return true;
  };
  while (!pending.empty()) {
    auto it = std::find_if(pending.begin(), pending.end(), ready);
    if (it == pending.end()) {
      std::vector<std::string> names;
      for (const auto* q : pending) names.push_back(q->name);
      return Status::FailedPrecondition(cfg.file +
                                        ": plugin dependency cycle among: " + join(names, ", "));
    }
    start_order_.push_back(*it);
    pending.erase(it);
  }
  return Status::Ok();
}

Status PluginSet::start_all() {
  for (LoadedPlugin* p : start_order_) {
    if (p->started) continue;
    log_->debug("starting {} {} ({})", p->name, p->desc->version, p->file);
    Status st = p->instance->start();
    if (!st.ok()) {
      stop_all();
      return Status(st.code(), "plugin '" + p->name + "' failed to start: " + st.to_string());
    }
    p->started = true;
    started_.push_back(p);
  }
  return Status::Ok();
}

void PluginSet::stop_all() noexcept {
  while (!started_.empty()) {
    LoadedPlugin* p = started_.back();
    started_.pop_back();
    try {
      log_->debug("stopping {}", p->name);
    } catch (...) {
    }
    p->instance->stop();
    p->started = false;
  }
}

void PluginSet::unload() noexcept {
  wrapped_ = wrapper_ = nullptr;
  stop_all();
  // Destroy instances in reverse config order (services stay until every instance is gone, since
  // a plugin may still hold pointers found through find_plugin()).
  for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) (*it)->instance.reset();
  for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) (*it)->services.reset();
  // Libraries last: the vector's destruction drops the last shared_library references.
  while (!plugins_.empty()) plugins_.pop_back();
  start_order_.clear();
}

}  // namespace dfd::host
