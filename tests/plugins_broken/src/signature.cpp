// Rule broken: a build signature from another compiler / C++ ABI / Boost.
#include "broken_common.hpp"

namespace {
const dfd::PluginDescriptor kDescriptor{sizeof(dfd::PluginDescriptor),
                                        dfd::kAbiMajor,
                                        dfd::kAbiMinor,
                                        dfd::PluginKind::kDigest,
                                        "gcc-0.0;cxx11abi=0;boost=0",
                                        "broken-signature",
                                        "0.0.1",
                                        "built with another toolchain",
                                        nullptr,
                                        0,
                                        &dfd_broken::create_null,
                                        &dfd_broken::destroy_null,
                                        nullptr};
}
DFD_BROKEN_ENTRY(kDescriptor)
