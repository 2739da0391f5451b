// dfd SDK — what each ABI minor added, in one table (SQLite's iVersion idea), and which minor a
// loaded plugin was built with.
//
// Rules (docs/plugins.md "Versioning"; also at the top of dfd/plugin.hpp):
//   - A host loads a plugin of its own ABI major and ANY minor, older or newer.
//   - Everything a minor adds is appended: descriptor fields after `destroy`, virtual functions
//     at the end of an interface. A plugin built against an older minor has neither; the host
//     reads an appended descriptor field only when `struct_size` covers it, and calls an appended
//     virtual function only on a plugin whose `abi_minor` is at least the minor that added it
//     (plugin_abi_minor() below tells, for any plugin object a caller holds).
//   - When the host loads a plugin of an older minor it reports the abilities that plugin lacks
//     (missing_abilities below), in the log and in `dfd-host --check` / `dfd-plugin-check`.
//   - A different major is refused, naming both versions.
//
// Append a row here (and a kAbiMinor... name) whenever kAbiMinor is bumped.
#pragma once

#include <dlfcn.h>

#include <cstdint>
#include <vector>

#include "dfd/plugin.hpp"

namespace dfd {

// The minor that added each ability: what a caller compares plugin_abi_minor() with.
inline constexpr std::uint32_t kAbiMinorUserAdmin = 1;     // Auth::find_user_by_id ...
inline constexpr std::uint32_t kAbiMinorUserList = 2;      // Auth::list_users ...
inline constexpr std::uint32_t kAbiMinorCheck = 3;         // PluginDescriptor::check
inline constexpr std::uint32_t kAbiMinorKnownDigests = 4;  // Storage::known_digests

struct AbiAbility {
  std::uint32_t minor;  // the minor that added it
  bool any_kind;        // true: every kind of plugin has it (a descriptor field)
  PluginKind kind;      // when !any_kind: the kind whose interface gained it
  const char* name;     // what an operator reads: "Auth::list_users, count_users, set_password"
};

inline constexpr AbiAbility kAbiAbilities[] = {
    {kAbiMinorUserAdmin, false, PluginKind::kAuth,
     "Auth::find_user_by_id, set_user_disabled, user_disabled, revoke_user_tokens, "
     "revoke_download_tokens_of (user administration, revoking a user's downloads)"},
    {kAbiMinorUserList, false, PluginKind::kAuth, "Auth::list_users, count_users, set_password"},
    {kAbiMinorCheck, true, PluginKind::kInfo,
     "PluginDescriptor::check (config checks against other plugins)"},
    {kAbiMinorKnownDigests, false, PluginKind::kStorage,
     "Storage::known_digests (files indexed without reading them)"},
};
static_assert(kAbiAbilities[sizeof kAbiAbilities / sizeof kAbiAbilities[0] - 1].minor == kAbiMinor,
              "kAbiMinor was bumped: append a row saying what the new minor added");

// The abilities a plugin of `kind` built against `abi_minor` (of this major) lacks, oldest first.
inline std::vector<AbiAbility> missing_abilities(PluginKind kind, std::uint32_t abi_minor) {
  std::vector<AbiAbility> out;
  for (const AbiAbility& a : kAbiAbilities) {
    if (a.minor > abi_minor && (a.any_kind || a.kind == kind)) out.push_back(a);
  }
  return out;
}

// The abi_minor of the plugin library that defines `plugin`'s class, for a caller that holds a
// plugin (find_plugin() hands out objects, not descriptors) and wants to call a virtual function
// appended in a later minor: a plugin built against an older minor has no slot for it, and the
// call would jump through garbage.
//
//   if (plugin_abi_minor(*storage) >= kAbiMinorKnownDigests) digests = storage->known_digests(p);
//
// How: the first word of a polymorphic object points into its class's vtable, which lives in the
// library that defines the class; dladdr names that library and its `dfd_plugin_entry` gives the
// descriptor. An object whose class is built into the running program (no entry: a test's double)
// is of this build and answers kAbiMinor; 0 when the library cannot be told (its descriptor is
// smaller than kDescriptorMinSize).
//
// Thread-safety: safe from any thread, but it costs a dladdr and a dlopen: ask once (at start())
// and keep the answer.
inline std::uint32_t plugin_abi_minor(const Plugin& plugin) noexcept {
  const void* vtable = *reinterpret_cast<const void* const*>(&plugin);
  Dl_info info{};
  if (dladdr(vtable, &info) == 0 || !info.dli_fname) return 0;
  void* lib = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return kAbiMinor;  // the main program (not reopenable by path): this build
  void* sym = dlsym(lib, kEntrySymbol);
  std::uint32_t minor = kAbiMinor;  // no entry: linked into this program, this build
  if (sym) {
    // BOOST_DLL_ALIAS exports a variable holding the entry function's address.
    auto entry = reinterpret_cast<PluginEntryFn*>(*static_cast<const void* const*>(sym));
    const PluginDescriptor* d = entry ? entry() : nullptr;
    minor = d && d->struct_size >= kDescriptorMinSize ? d->abi_minor : 0;
  }
  dlclose(lib);
  return minor;
}

}  // namespace dfd
