// Not broken: a storage plugin built against ABI minor 3 (it has `check`, but no
// Storage::known_digests, which minor 4 appended). The host loads it and reports what it lacks.
#include "broken_common.hpp"

namespace {
const dfd::PluginDescriptor kDescriptor{sizeof(dfd::PluginDescriptor),
                                        dfd::kAbiMajor,
                                        3,
                                        dfd::PluginKind::kStorage,
                                        DFD_BUILD_SIGNATURE,
                                        "broken-storage-minor3",
                                        "0.0.1",
                                        "a storage built against ABI minor 3",
                                        nullptr,
                                        0,
                                        &dfd_broken::create_null,
                                        &dfd_broken::destroy_null,
                                        nullptr};
}
DFD_BROKEN_ENTRY(kDescriptor)
