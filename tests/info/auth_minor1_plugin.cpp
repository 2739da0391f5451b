// A test auth plugin whose descriptor says ABI minor 1: it stores users (the FakeAuth double of
// info_doubles.hpp), but a plugin really built against minor 1 has no vtable slots for the
// abilities of minor 2 (list_users, count_users, set_password), so an info server must not call
// them and answers 501 instead (info_sqlite_test: InfoSqliteUsers.APluginOfMinor1Answers501).
// Its descriptor ends at `destroy` as a minor-1 build's does (no `check`, minor 3); the real
// `dfd-host --check` loads it and lists what it lacks (tests/plugins_broken, issue 15).
// Built into its own folder, never into build/plugins.
#include "info_doubles.hpp"

namespace {

class Minor1Auth final : public dfd::test::FakeAuth {};

dfd::Plugin* create(dfd::HostServices&, dfd::Status*) noexcept {
  return new (std::nothrow) Minor1Auth();
}
void destroy(dfd::Plugin* p) noexcept {
  delete p;
}

const dfd::PluginDescriptor kDescriptor{dfd::kDescriptorMinSize,
                                        dfd::kAbiMajor,
                                        1,  // as if built before minor 2
                                        dfd::PluginKind::kAuth,
                                        DFD_BUILD_SIGNATURE,
                                        "test-auth-minor1",
                                        "0.0.1",
                                        "users in memory; claims ABI minor 1",
                                        nullptr,
                                        0,
                                        &create,
                                        &destroy,
                                        nullptr};

const dfd::PluginDescriptor* entry_impl() noexcept {
  return &kDescriptor;
}

}  // namespace

BOOST_DLL_ALIAS(entry_impl, dfd_plugin_entry)
