// Rule broken (by the config that lists it alone): it requires an auth plugin.
#include "broken_common.hpp"

namespace {
const dfd::PluginKind kNeeds[] = {dfd::PluginKind::kAuth};
}
DFD_PLUGIN(dfd::PluginKind::kStorage, "broken-needs-auth", "0.0.1", "requires an auth plugin",
           kNeeds, 1, &dfd_broken::create_null, &dfd_broken::destroy_null)
