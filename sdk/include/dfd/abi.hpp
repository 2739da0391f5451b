// dfd SDK — what each ABI minor added, in one table (SQLite's iVersion idea).
//
// Rules (docs/plugins.md "Versioning"):
//   - A host loads a plugin of its own ABI major and ANY minor, older or newer.
//   - Everything a minor adds is appended: descriptor fields after `destroy`, virtual functions
//     at the end of an interface. A plugin built against an older minor has neither; the host
//     reads an appended descriptor field only when `struct_size` covers it, and calls an appended
//     virtual function only on a plugin whose `abi_minor` is at least the minor that added it.
//   - When the host loads a plugin of an older minor it reports the abilities that plugin lacks
//     (missing_abilities below), in the log and in `dfd-host --check` / `dfd-plugin-check`.
//   - A different major is refused, naming both versions.
//
// Append a row here whenever kAbiMinor is bumped.
#pragma once

#include <cstdint>
#include <vector>

#include "dfd/plugin.hpp"

namespace dfd {

struct AbiAbility {
  std::uint32_t minor;  // the minor that added it
  bool any_kind;        // true: every kind of plugin has it (a descriptor field)
  PluginKind kind;      // when !any_kind: the kind whose interface gained it
  const char* name;     // what an operator reads: "Auth::list_users, count_users, set_password"
};

inline constexpr AbiAbility kAbiAbilities[] = {
    {1, false, PluginKind::kAuth,
     "Auth::find_user_by_id, set_user_disabled, user_disabled, revoke_user_tokens, "
     "revoke_download_tokens_of (user administration, revoking a user's downloads)"},
    {2, false, PluginKind::kAuth, "Auth::list_users, count_users, set_password"},
    {3, true, PluginKind::kInfo, "PluginDescriptor::check (config checks against other plugins)"},
    {4, false, PluginKind::kStorage,
     "Storage::known_digests (files indexed without reading them)"},
};

// The abilities a plugin of `kind` built against `abi_minor` (of this major) lacks, oldest first.
inline std::vector<AbiAbility> missing_abilities(PluginKind kind, std::uint32_t abi_minor) {
  std::vector<AbiAbility> out;
  for (const AbiAbility& a : kAbiAbilities) {
    if (a.minor > abi_minor && (a.any_kind || a.kind == kind)) out.push_back(a);
  }
  return out;
}

}  // namespace dfd
