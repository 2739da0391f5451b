// info-core: the newest lines of the audit log (audit_log.hpp), for GET /v1/status/audit and the
// status page's "recent downloads". Reads at most `max_bytes` from the end of the file, whatever
// its size, so a long log costs one bounded read per request.
//
// A line counts only when it is complete (ends with '\n') and parses as a JSON object; the first
// line of a read that starts inside the file is a piece of a line and is dropped, as is a line
// still being appended. Entries come back newest first, at most `limit` of them, only those whose
// "event" equals `event` when `event` is not empty.
//
// Thread-safety: a plain function over the file system; concurrent appends by AuditLog are fine
// (a half-written last line is skipped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/status.hpp"

namespace dfd::info {

struct AuditTail {
  std::vector<nlohmann::json> entries;  // newest first
  std::uint64_t file_bytes = 0;         // the file's size when read
  std::uint64_t scanned_bytes = 0;      // how much of its end was read
  // True when every line of the file was looked at (scanned_bytes == file_bytes) or `limit`
  // entries were found; false when older lines were left unread.
  bool complete = false;
};

// kNotFound when the file does not exist (yet), kIoError for other failures (naming the path).
Result<AuditTail> read_audit_tail(const std::string& path, std::size_t max_bytes, std::size_t limit,
                                  std::string_view event);

}  // namespace dfd::info
