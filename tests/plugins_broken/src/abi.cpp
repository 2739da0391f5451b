// Rule broken: built for the next ABI major (kAbiMajor + 1, minor 0): a different contract.
#include "broken_common.hpp"

namespace {
const dfd::PluginDescriptor kDescriptor{sizeof(dfd::PluginDescriptor),
                                        dfd::kAbiMajor + 1,
                                        0,
                                        dfd::PluginKind::kDigest,
                                        DFD_BUILD_SIGNATURE,
                                        "broken-abi",
                                        "0.0.1",
                                        "built against the next ABI major",
                                        nullptr,
                                        0,
                                        &dfd_broken::create_null,
                                        &dfd_broken::destroy_null,
                                        nullptr};
}
DFD_BROKEN_ENTRY(kDescriptor)
