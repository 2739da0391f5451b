// info-core: which file names the catalog accepts.
//
// A name is shown by `dfd ls` and becomes part of the client's output, part and state paths, so
// the catalog refuses (issue 11, #8): control characters — C0 (0x00-0x1f: NUL, BEL, ESC,
// newline ...), DEL (0x7f) and C1 (U+0080-U+009F, which some terminals obey as escapes) — and
// bytes that are not well-formed UTF-8. Empty names and names over 4096 bytes are refused too.
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace dfd::info {

// Empty when `name` is acceptable; otherwise why not, with the offending byte's offset and value
// (never the raw byte).
std::string file_name_problem(std::string_view name);

}  // namespace dfd::info
