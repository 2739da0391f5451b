// Shared pieces of the tiny broken plugins: each library breaks exactly one loader rule.
#pragma once

#include "dfd/plugin.hpp"

namespace dfd_broken {

class NullPlugin : public dfd::Plugin {};

inline dfd::Plugin* create_null(dfd::HostServices&, dfd::Status*) noexcept {
  return new (std::nothrow) NullPlugin();
}
inline void destroy_null(dfd::Plugin* p) noexcept {
  delete p;
}

// Exports `dfd_plugin_entry` returning `descriptor` (used by plugins that hand-build a bad one).
#define DFD_BROKEN_ENTRY(DESCRIPTOR)                     \
  namespace dfd_broken_entry_ns {                        \
  const ::dfd::PluginDescriptor* entry_impl() noexcept { \
    return &(DESCRIPTOR);                                \
  }                                                      \
  }                                                      \
  BOOST_DLL_ALIAS(dfd_broken_entry_ns::entry_impl, dfd_plugin_entry)

}  // namespace dfd_broken
