// dfd SDK — the plugin entry ABI.
//
// A plugin is a shared library that exports exactly one symbol, `dfd_plugin_entry` (made with
// DFD_PLUGIN below, which uses BOOST_DLL_ALIAS). It is a function returning a pointer to a
// static PluginDescriptor. The host checks, in this order, and refuses with a message that
// names the file and both values:
//   1. the entry symbol exists;
//   2. abi_major == kAbiMajor (a different major is a different contract):
//      "libdfd-x.so: built for plugin ABI 3.0, this host has ABI 2.4 (rebuild it against this
//      host's SDK)";
//   3. struct_size >= kDescriptorMinSize (the fields up to `destroy`, which every plugin of this
//      major has; a plugin built against an older minor has a smaller struct than this SDK's);
//   4. build_signature equals the host's (compiler major.minor, C++ library ABI, Boost version):
//      C++ types such as std::string and std::function cross this boundary, so both sides must
//      agree (dfd_add_plugin in the installed CMake package checks the compiler at configure time);
//   5. name matches the library file's name (libdfd-NAME.so).
//
// Versioning rules (SQLite's iVersion idea; the one table of what each minor added is
// kAbiAbilities in dfd/abi.hpp):
//   - The host loads a plugin of its own major and ANY minor, older or newer.
//   - A minor only appends: descriptor fields after `destroy`, virtual functions at the end of an
//     interface. Nothing is inserted, reordered or removed (a test pins offsets with
//     static_assert).
//   - An appended descriptor field is read only when struct_size covers it (descriptor_has_check);
//     an appended virtual function is called only on a plugin whose abi_minor is at least the
//     minor that added it (dfd/abi.hpp: plugin_abi_minor() and the kAbiMinor... names).
//   - A plugin of an older minor loads; the host logs the abilities it lacks (missing_abilities)
//     once at load, and `dfd-host --check` / `dfd-plugin-check` print them.
//   - A plugin of a newer minor loads; the host simply does not know its newer abilities.
//   - Appending an ability: bump kAbiMinor, append the field or virtual (with a default for a
//     virtual), append a row to kAbiAbilities, and guard every call as above.
//   - Changing the shape of anything (a parameter, a type, an order) is a new major.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>
#include <boost/version.hpp>

#include "dfd/host_services.hpp"
#include "dfd/status.hpp"

namespace dfd {

// 2: Auth::remember_download_tokens (batch) added.
inline constexpr std::uint32_t kAbiMajor = 2;
// Minor 1 (appended, see auth.hpp): Auth::find_user_by_id, set_user_disabled, user_disabled,
// revoke_user_tokens, revoke_download_tokens_of.
// Minor 2 (appended, see auth.hpp): Auth::list_users, count_users, set_password.
// Minor 3 (appended): PluginDescriptor::check (below).
// Minor 4 (appended, see storage.hpp): Storage::known_digests.
// What each minor added is listed once, in dfd/abi.hpp (kAbiAbilities).
inline constexpr std::uint32_t kAbiMinor = 4;

#define DFD_STRINGIFY_INNER(x) #x
#define DFD_STRINGIFY(x) DFD_STRINGIFY_INNER(x)

// "gcc-12.2;cxx11abi=1;boost=107400": what both sides must share for C++ types to cross. The SDK's
// own version is not part of it: that is abi_major / abi_minor.
#if defined(__clang__)
#define DFD_COMPILER_ID "clang-" DFD_STRINGIFY(__clang_major__) "." DFD_STRINGIFY(__clang_minor__)
#elif defined(__GNUC__)
#define DFD_COMPILER_ID "gcc-" DFD_STRINGIFY(__GNUC__) "." DFD_STRINGIFY(__GNUC_MINOR__)
#else
#define DFD_COMPILER_ID "unknown-compiler"
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define DFD_CXXABI_ID "cxx11abi=" DFD_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#else
#define DFD_CXXABI_ID "cxx11abi=unknown"
#endif
#define DFD_BUILD_SIGNATURE DFD_COMPILER_ID ";" DFD_CXXABI_ID ";boost=" DFD_STRINGIFY(BOOST_VERSION)

inline constexpr const char* kBuildSignature = DFD_BUILD_SIGNATURE;

// The role a plugin plays. Values are ABI: append only.
enum class PluginKind : std::uint32_t {
  kInfo = 1,     // an information server API (catalog, login, manifests) — see info.hpp
  kStorage = 2,  // where file bytes live — see storage.hpp
  kBroker = 3,   // the event transport — see broker.hpp
  kAuth = 4,     // users, user tokens and download tokens — see auth.hpp
  kDigest = 5,   // hash algorithms — see digest.hpp
};

constexpr const char* kind_name(PluginKind k) noexcept {
  switch (k) {
    case PluginKind::kInfo:
      return "info";
    case PluginKind::kStorage:
      return "storage";
    case PluginKind::kBroker:
      return "broker";
    case PluginKind::kAuth:
      return "auth";
    case PluginKind::kDigest:
      return "digest";
  }
  return "unknown";
}

// Health of one plugin, shown per plugin by GET /healthz.
struct Health {
  bool healthy = true;
  std::string detail;  // short, human: "connected to 127.0.0.1:5672", "indexed 12 files"
};

// Base of every plugin instance. The host calls, on the main thread and in this order:
//   create() (in the descriptor) — parse and validate config; no threads, no sockets yet, and
//              no side effects: no file, directory or database is created (dfd-host --check
//              runs create() on the real config and must leave the machine as it was; judge a
//              path with dfd/creatable_file.hpp and make it in start());
//   check()  (in the descriptor, ABI minor 3, optional) — after every create(), in start order:
//              validate what needs the other plugins (find_plugin()), with no side effects
//              either; --check runs it too, then stops;
//   start()  — in dependency order; may look up other plugins, start threads, open sockets;
//   stop()   — in reverse order; must join every thread it started; after it returns nothing
//              of this plugin runs any more;
//   destroy() (in the descriptor).
// health() may be called from any thread at any time between start() and stop().
class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual Status start() noexcept { return Status::Ok(); }
  virtual void stop() noexcept {}
  virtual Health health() const noexcept { return {}; }
};

// What the entry returns. Plain data, static storage duration in the plugin.
struct PluginDescriptor {
  std::uint32_t struct_size;  // sizeof(PluginDescriptor) as the plugin was built
  std::uint32_t abi_major;    // kAbiMajor of the plugin's SDK
  std::uint32_t abi_minor;    // kAbiMinor of the plugin's SDK
  PluginKind kind;
  const char* build_signature;  // DFD_BUILD_SIGNATURE of the plugin's build
  const char* name;             // "storage-fs"; the library is libdfd-storage-fs.so
  const char* version;          // the plugin's own version, "1.0.0"
  const char* description;      // one line, for --check and --help
  // Kinds this plugin needs to find at start(), e.g. {kAuth, kBroker}; `requires_count` entries.
  // The host refuses a config where a required kind is missing, and starts required plugins first.
  const PluginKind* requires_kinds;
  std::uint32_t requires_count;
  // Builds an instance from `host.config()`. On failure returns nullptr and sets *error
  // (never throws). `host` outlives the instance.
  Plugin* (*create)(HostServices& host, Status* error) noexcept;
  // Destroys an instance made by create() (after stop()).
  void (*destroy)(Plugin* instance) noexcept;
  // ---- appended in ABI minor 3; the host reads it only when struct_size covers it ----
  // Optional (null: nothing to check). Called once every plugin has been created, in start order,
  // before any start(), by every start and by `dfd-host --check` (which then exits): validates
  // the config against the other plugins, e.g. that a key naming another plugin names one of the
  // right kind. It may call host.find_plugin() and the const queries of the plugins it finds
  // (Auth::supports_users(), Digest::algorithms()); it must not open files or sockets, start
  // threads or create anything. Errors name file:line:key like create()'s (Config::error).
  Status (*check)(Plugin* instance) noexcept;
};

// The host reads at least the fields up to and including `destroy` (a plugin built before minor
// 3 has no `check`).
inline constexpr std::size_t kDescriptorMinSize =
    offsetof(PluginDescriptor, destroy) + sizeof(PluginDescriptor::destroy);
// True when `d` (already accepted: struct_size >= kDescriptorMinSize) has a `check` field.
inline bool descriptor_has_check(const PluginDescriptor& d) noexcept {
  return d.struct_size >= offsetof(PluginDescriptor, check) + sizeof(PluginDescriptor::check);
}

using PluginEntryFn = const PluginDescriptor*();

inline constexpr const char* kEntrySymbol = "dfd_plugin_entry";

}  // namespace dfd

// Defines the plugin entry. Use once per library, at namespace scope:
//
//   static const dfd::PluginKind kNeeds[] = {dfd::PluginKind::kDigest};
//   DFD_PLUGIN(dfd::PluginKind::kStorage, "storage-fs", "1.0.0", "Files under a directory",
//              kNeeds, 1, &create_fs, &destroy_fs)
//
// `create` has the signature `dfd::Plugin* (dfd::HostServices&, dfd::Status*) noexcept`.
// DFD_PLUGIN_WITH_CHECK takes a `check` function as well (`dfd::Status (dfd::Plugin*) noexcept`,
// e.g. &dfd::check_plugin<T>).
#define DFD_PLUGIN(KIND, NAME, VERSION, DESCRIPTION, REQUIRES, REQUIRES_COUNT, CREATE, DESTROY) \
  DFD_PLUGIN_WITH_CHECK(KIND, NAME, VERSION, DESCRIPTION, REQUIRES, REQUIRES_COUNT, CREATE,     \
                        DESTROY, nullptr)
#define DFD_PLUGIN_WITH_CHECK(KIND, NAME, VERSION, DESCRIPTION, REQUIRES, REQUIRES_COUNT, CREATE, \
                              DESTROY, CHECK)                                                     \
  namespace dfd_plugin_entry_ns {                                                                 \
  const ::dfd::PluginDescriptor* dfd_plugin_entry_impl() noexcept {                               \
    static const ::dfd::PluginDescriptor d{sizeof(::dfd::PluginDescriptor),                       \
                                           ::dfd::kAbiMajor,                                      \
                                           ::dfd::kAbiMinor,                                      \
                                           KIND,                                                  \
                                           DFD_BUILD_SIGNATURE,                                   \
                                           NAME,                                                  \
                                           VERSION,                                               \
                                           DESCRIPTION,                                           \
                                           REQUIRES,                                              \
                                           REQUIRES_COUNT,                                        \
                                           CREATE,                                                \
                                           DESTROY,                                               \
                                           CHECK};                                                \
    return &d;                                                                                    \
  }                                                                                               \
  }                                                                                               \
  BOOST_DLL_ALIAS(dfd_plugin_entry_ns::dfd_plugin_entry_impl, dfd_plugin_entry)

// Convenience for the common case: `create` builds `new T(host, &status)`-style objects.
// T must have a constructor T(dfd::HostServices&) and a member `dfd::Status init()` that
// validates the config; init() errors are returned from create().
namespace dfd {
template <typename T>
Plugin* create_plugin(HostServices& host, Status* error) noexcept {
  T* p = nullptr;
  Status st = guard("create", [&]() -> Status {
    p = new T(host);
    return p->init();
  });
  if (!st.ok()) {
    delete p;
    if (error) *error = st;
    return nullptr;
  }
  return p;
}
template <typename T>
void destroy_plugin(Plugin* p) noexcept {
  delete static_cast<T*>(p);
}
// For DFD_PLUGIN_WITH_CHECK: T has a member `dfd::Status check()` (see PluginDescriptor::check).
template <typename T>
Status check_plugin(Plugin* p) noexcept {
  return guard("check", [&]() -> Status { return static_cast<T*>(p)->check(); });
}
}  // namespace dfd
