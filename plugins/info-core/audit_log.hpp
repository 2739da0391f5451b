// info-core: the audit log (`audit_log = PATH` in the plugin's config; off when absent).
//
// One JSON object per line, appended: {"time":"<RFC 3339>","event":"<name>", ...fields}. The
// events and their fields are listed in docs/api.md ("Audit log"): logins, failed and throttled
// logins (naming the account), logouts, user changes, manifests issued (user, file, zone) and
// revocations. Callers pass only the fields named there: never a token, a token hash or a
// password. Strings are JSON-escaped, so a hostile e-mail cannot forge a line.
//
// The file is created 0600 and opened O_APPEND; each line is one write(2), so lines from
// concurrent requests never interleave. A failed write is counted by the caller's logger once
// per run and otherwise ignored (auditing never fails a request).
//
// Thread-safety: record() is safe to call concurrently.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "dfd/events.hpp"
#include "dfd/status.hpp"

namespace dfd::info {

class AuditLog {
 public:
  AuditLog() = default;
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Opens (creates 0600) `path` for appending. An empty path leaves the log off.
  Status open(const std::string& path);
  bool enabled() const { return fd_ >= 0; }

  // Appends {"time":..,"event":event, fields...}. False when the write failed.
  bool record(std::string_view event, const nlohmann::json& fields, TimePoint now);

 private:
  int fd_ = -1;
};

}  // namespace dfd::info
