// Rule broken: ABI major 99 (the host expects dfd::kAbiMajor).
#include "broken_common.hpp"

namespace {
const dfd::PluginDescriptor kDescriptor{sizeof(dfd::PluginDescriptor),
                                        99,
                                        0,
                                        dfd::PluginKind::kDigest,
                                        DFD_BUILD_SIGNATURE,
                                        "broken-abi",
                                        "0.0.1",
                                        "built against ABI major 99",
                                        nullptr,
                                        0,
                                        &dfd_broken::create_null,
                                        &dfd_broken::destroy_null,
                                        nullptr};
}
DFD_BROKEN_ENTRY(kDescriptor)
