#include "log_time.hpp"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace dfd::host {

std::string_view LogTimeFormatter::format(std::chrono::system_clock::time_point t) {
  auto ms_total =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::int64_t sec = ms_total / 1000;
  int ms = static_cast<int>(ms_total % 1000);
  if (ms < 0) {
    ms += 1000;
    --sec;
  }
  if (sec != cached_sec_) {
    cached_sec_ = sec;
    std::time_t tt = static_cast<std::time_t>(sec);
    std::tm tm{};
    localtime_r(&tt, &tm);
    std::strftime(prefix_, sizeof prefix_, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff / 60;  // minutes east of UTC
    char sign = off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    std::snprintf(offset_, sizeof offset_, "%c%02ld:%02ld", sign, (off / 60) % 100, off % 60);
  }
  int n = std::snprintf(out_, sizeof out_, "%s.%03d%s", prefix_, ms, offset_);
  return {out_, n > 0 ? static_cast<std::size_t>(n) : 0};
}

}  // namespace dfd::host
