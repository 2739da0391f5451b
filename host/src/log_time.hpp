// Timestamps of dfd-host's logs: ISO 8601 local time with milliseconds and the UTC offset,
// "2026-11-30T10:00:00.123+00:00" (the same form as spdlog's "%Y-%m-%dT%H:%M:%S.%e%z" in
// logging.cpp), so lines from hosts in different time zones can be ordered.
//
// Thread-safety: a LogTimeFormatter belongs to one thread (it caches the current second).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace dfd::host {

// The spdlog pattern of every log line: time (as above), level, [logger name], message.
inline constexpr const char* kLogLinePattern = "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v";

class LogTimeFormatter {
 public:
  // `t` as "YYYY-MM-DDTHH:MM:SS.mmm+HH:MM" (local time); valid until the next call.
  std::string_view format(std::chrono::system_clock::time_point t);

 private:
  std::int64_t cached_sec_ = INT64_MIN;
  char prefix_[32] = {};  // "YYYY-MM-DDTHH:MM:SS"
  char offset_[8] = {};   // "+HH:MM"
  char out_[48] = {};
};

}  // namespace dfd::host
