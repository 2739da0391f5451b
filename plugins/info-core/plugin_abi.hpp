// info-core: which SDK minor another plugin was built with (SQLite iVersion style).
//
// Abilities appended to an interface in a later ABI minor (auth.hpp, "ABI minor 1") have no
// vtable slot in a plugin built against an older minor; calling one would jump through garbage.
// HostServices hands out plugins without their descriptors, so this finds the descriptor of the
// library that holds the object's vtable (dladdr, then its `dfd_plugin_entry`) and reads its
// abi_minor. An object built into the running program itself (no entry: a test's double) is of
// this build and answers kAbiMinor.
//
// Thread-safety: safe to call from any thread; call it once at start() and keep the answer.
#pragma once

#include <cstdint>

#include "dfd/plugin.hpp"

namespace dfd::info {

std::uint32_t plugin_abi_minor(const Plugin& plugin);

}  // namespace dfd::info
