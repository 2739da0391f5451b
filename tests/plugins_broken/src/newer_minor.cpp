// Not broken: a plugin built against a NEWER minor of this major (kAbiMinor + 5), whose
// descriptor has a field this host does not know appended after `check` (struct_size covers it).
// The host must load it (same major, any minor) and read nothing past the fields it knows.
#include "broken_common.hpp"

namespace {
struct NewerDescriptor {
  dfd::PluginDescriptor known;
  const char* appended_later;  // a field of a future minor
};
const NewerDescriptor kDescriptor{
    {sizeof(NewerDescriptor), dfd::kAbiMajor, dfd::kAbiMinor + 5, dfd::PluginKind::kDigest,
     DFD_BUILD_SIGNATURE, "broken-newer-minor", "0.0.1", "built against a newer ABI minor", nullptr,
     0, &dfd_broken::create_null, &dfd_broken::destroy_null, nullptr},
    "a field this host does not know"};
}  // namespace
DFD_BROKEN_ENTRY(kDescriptor.known)
