#include "plugin_abi.hpp"

#include <dlfcn.h>

namespace dfd::info {

std::uint32_t plugin_abi_minor(const Plugin& plugin) {
  // The first word of a polymorphic object points into its class's vtable, which lives in the
  // library that defines the class.
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

}  // namespace dfd::info
