#include "process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace dfd::host {

namespace {

std::string read_proc(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<double> number(const std::string& field) {
  if (field.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(field.c_str(), &end);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return v;
}

std::optional<double> open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return std::nullopt;
  double n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

void family(std::ostringstream& os, const char* name, const char* type, const char* help,
            std::optional<double> value) {
  if (!value) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", *value);
  os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
     << name << ' ' << buf << '\n';
}

}  // namespace

std::optional<ProcessStat> parse_proc_stat(std::string_view text, long ticks, long page) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos || ticks <= 0 || page <= 0) return std::nullopt;
  // After "pid (comm)": field 3 (state) is the first; we need 14 utime, 15 stime, 22 starttime,
  // 23 vsize, 24 rss (man 5 proc).
  std::istringstream in{std::string(text.substr(close + 1))};
  std::vector<std::string> f{"", "", ""};  // f[N] = field N; 1 and 2 stand before the ')'
  for (std::string s; in >> s;) f.push_back(s);
  if (f.size() < 25) return std::nullopt;
  auto utime = number(f[14]);
  auto stime = number(f[15]);
  auto start = number(f[22]);
  auto vsize = number(f[23]);
  auto rss = number(f[24]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  ProcessStat p;
  p.cpu_seconds = (*utime + *stime) / static_cast<double>(ticks);
  p.start_time_seconds = *start / static_cast<double>(ticks);
  p.virtual_bytes = *vsize;
  p.resident_bytes = *rss * static_cast<double>(page);
  return p;
}

std::optional<double> boot_time_seconds() {
  timespec real{}, boot{};
  if (::clock_gettime(CLOCK_REALTIME, &real) != 0 || ::clock_gettime(CLOCK_BOOTTIME, &boot) != 0) {
    return std::nullopt;
  }
  return static_cast<double>(real.tv_sec - boot.tv_sec) +
         static_cast<double>(real.tv_nsec - boot.tv_nsec) / 1e9;
}

std::string render_process_metrics() {
  std::ostringstream os;
  auto stat = parse_proc_stat(read_proc("/proc/self/stat"), ::sysconf(_SC_CLK_TCK),
                              ::sysconf(_SC_PAGESIZE));
  auto boot = boot_time_seconds();
  rlimit nofile{};
  std::optional<double> max_fds;
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    max_fds = static_cast<double>(nofile.rlim_cur);
  }
  auto field = [&](double ProcessStat::*member) -> std::optional<double> {
    if (!stat) return std::nullopt;
    return (*stat).*member;
  };
  std::optional<double> start;
  if (stat && boot) start = *boot + stat->start_time_seconds;
  family(os, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds.", field(&ProcessStat::cpu_seconds));
  family(os, "process_max_fds", "gauge", "Maximum number of open file descriptors.", max_fds);
  family(os, "process_open_fds", "gauge", "Number of open file descriptors.", open_fds());
  family(os, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         field(&ProcessStat::resident_bytes));
  family(os, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.", start);
  family(os, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         field(&ProcessStat::virtual_bytes));
  return os.str();
}

}  // namespace dfd::host
