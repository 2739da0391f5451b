// Rule broken: the descriptor's name differs from the library's file name.
#include "broken_common.hpp"

DFD_PLUGIN(dfd::PluginKind::kDigest, "something-else", "0.0.1", "misnamed library", nullptr, 0,
           &dfd_broken::create_null, &dfd_broken::destroy_null)
