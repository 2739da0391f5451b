// The request target of a data-plane request: which file uid a `/v1/content/{uid}` target names.
//
// Pure functions of their input bytes (no allocation beyond the output string, no state), safe
// for any input: fuzz targets may call them directly.
#pragma once

#include <string>
#include <string_view>

namespace dfd::host {

enum class ContentTarget {
  kUid,         // *uid holds the percent-decoded uid (never used as a path, only looked up)
  kNotContent,  // not /v1/content/<something> → 404 "no such endpoint"
  kBadEscape,   // a malformed %-escape in the uid → 404 "no such file"
};

// Accepts origin-form ("/v1/content/ab?x") and absolute-form ("http://h:1/v1/content/ab");
// the query and fragment are ignored.
ContentTarget content_uid_of(std::string_view target, std::string* uid);

// Percent-decodes a path segment; false on a malformed escape.
bool percent_decode(std::string_view in, std::string* out);

}  // namespace dfd::host
