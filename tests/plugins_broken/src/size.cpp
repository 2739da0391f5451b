// Rule broken: a descriptor smaller than the fields the host reads.
#include "broken_common.hpp"

namespace {
const dfd::PluginDescriptor kDescriptor{16,
                                        dfd::kAbiMajor,
                                        dfd::kAbiMinor,
                                        dfd::PluginKind::kDigest,
                                        DFD_BUILD_SIGNATURE,
                                        "broken-size",
                                        "0.0.1",
                                        "claims a 16-byte descriptor",
                                        nullptr,
                                        0,
                                        &dfd_broken::create_null,
                                        &dfd_broken::destroy_null,
                                        nullptr};
}
DFD_BROKEN_ENTRY(kDescriptor)
