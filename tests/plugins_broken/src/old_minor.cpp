// Not broken: a plugin built before ABI minor 3, whose descriptor ends at `destroy`
// (struct_size 80). The host must accept it and must not read a `check` past its end; the field
// holds a refusing function here, so a host that did would fail --check.
#include "broken_common.hpp"

namespace {
dfd::Status refuse(dfd::Plugin*) noexcept {
  return dfd::Status::Internal("the host read `check` beyond struct_size");
}
const dfd::PluginDescriptor kDescriptor{dfd::kDescriptorMinSize,
                                        dfd::kAbiMajor,
                                        2,
                                        dfd::PluginKind::kDigest,
                                        DFD_BUILD_SIGNATURE,
                                        "broken-old-minor",
                                        "0.0.1",
                                        "built against ABI minor 2",
                                        nullptr,
                                        0,
                                        &dfd_broken::create_null,
                                        &dfd_broken::destroy_null,
                                        &refuse};
}  // namespace
DFD_BROKEN_ENTRY(kDescriptor)
