// The data plane's optional access log ([content] access_log = "PATH", or "-" for stderr): one
// JSON object per line and per answered request (docs/operations.md "Access log"):
//
//   {"time":"2026-11-30T10:00:00.123+00:00","request_id":"4f1c2a9be07d5a13","remote":"127.0.0.1",
//    "method":"GET","path":"/v1/content/9f86d0...","status":206,"bytes":1048576,
//    "duration_ms":1.234,"complete":true,"file_id":"9f86d0...","file_name":"movie.mp4"}
//
// Never the token (no header is logged) nor the query string (the path ends before '?'). Every
// string field is bounded (kMax* below; longer values are cut), escaped for JSON, and invalid
// UTF-8 becomes U+FFFD, so a hostile request cannot forge or bloat a line.
//
// The hot path stays cheap: each event loop appends lines to its own buffer (append_access_line,
// no lock, no syscall) and hands the buffer to the AccessLog once per loop turn; one writer thread
// gathers lines for up to kGatherTime (or kWriteBytes) and writes them in one write(), so a line
// reaches the file within about 0.1 s. When the writer falls behind by more than kMaxPendingBytes,
// further lines are dropped and counted (dfd_content_access_log_dropped_total) instead of slowing
// the data plane.
//
// Rotation: before each write the writer checks that the path still names the file it has open
// (one stat per batch: about 10 a second, more only when 256 KiB batches fill faster); when the
// file was moved or deleted (logrotate) it opens a new one at the path, so no signal is needed.
// Truncation in place (copytruncate) works as is.
//
// Thread-safety: append_access_line() is pure. AccessLog::submit() may be called from any thread;
// the destructor (from the owner) writes what is pending and joins the writer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "dfd/host_services.hpp"

namespace dfd::host {

inline constexpr std::size_t kMaxMethodChars = 16;
inline constexpr std::size_t kMaxPathChars = 512;
inline constexpr std::size_t kMaxRemoteChars = 64;
inline constexpr std::size_t kMaxFileIdChars = 128;
inline constexpr std::size_t kMaxFileNameChars = 256;

struct AccessEntry {
  std::string_view time;        // LogTimeFormatter output
  std::string_view request_id;  // valid_request_id() or generated
  std::string_view remote;      // the peer's IP address as text
  std::string_view method;      // "" when the request could not be parsed
  std::string_view target;      // the request target as received; the query is dropped here
  int status = 0;
  std::uint64_t bytes = 0;     // file bytes sent (0 for error responses)
  double duration_ms = 0;      // from the complete request head to the last byte (or the close)
  bool complete = true;        // false: the connection closed before the response was sent
  std::string_view file_id;    // "" when no file was found
  std::string_view file_name;  // path relative to the storage root
};

// Appends one JSON line (ending in '\n') for `e` to `out`.
void append_access_line(std::string& out, const AccessEntry& e);

// The path part of a request target: everything before '?' or '#'.
std::string_view target_path(std::string_view target) noexcept;

// address_key() text ("127.0.0.1", "::1"); "" for an empty or malformed key.
std::string address_text(const std::string& key);

class AccessLog {
 public:
  static constexpr std::size_t kMaxPendingBytes = 8 << 20;
  static constexpr std::size_t kWriteBytes = 256 << 10;  // a batch this large is written at once
  static constexpr std::chrono::milliseconds kGatherTime{100};  // else after this

  // Opens `path` for appending (created 0640, with any missing folders) or, for "-", writes to
  // stderr. Errors name the path.
  static Result<std::unique_ptr<AccessLog>> open(const std::string& path, Logger& log,
                                                 Metrics& metrics);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Takes the lines in `lines` (whole lines; `lines` is left empty). Never waits for I/O.
  void submit(std::string& lines);

 private:
  AccessLog(std::string path, int fd, Logger& log, Metrics& metrics);
  void run();
  void write_all(const std::string& bytes);
  void follow_rotation();

  std::string path_;
  int fd_;
  Logger& log_;
  Counter& lines_;
  Counter& dropped_;
  Counter& write_errors_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool stop_ = false;
  bool error_logged_ = false;
  bool reopen_logged_ = false;
  std::thread writer_;  // last: starts after the members it uses exist
};

}  // namespace dfd::host
