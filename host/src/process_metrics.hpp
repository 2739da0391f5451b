// The process_* series of every /metrics (issue 14), read from /proc/self at each scrape, with
// the names and meanings of the Prometheus client libraries' process collector:
//   process_cpu_seconds_total        user + system CPU time (counter)
//   process_resident_memory_bytes    resident set size
//   process_virtual_memory_bytes     virtual memory size
//   process_open_fds                 open file descriptors
//   process_max_fds                  RLIMIT_NOFILE (soft limit)
//   process_start_time_seconds       start time, seconds since the Unix epoch
// A value that cannot be read is left out (never a made-up 0). Only /proc/self is read, so the
// series work under systemd's ProcSubset=pid.
//
// Thread-safety: pure functions plus reads of /proc; callable from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dfd::host {

struct ProcessStat {
  double cpu_seconds = 0;
  double start_time_seconds = 0;  // since boot (add the boot time for the Unix epoch)
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

// Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses: fields
// are counted after its last ')'). `ticks` = sysconf(_SC_CLK_TCK), `page` = the page size.
std::optional<ProcessStat> parse_proc_stat(std::string_view text, long ticks, long page);

// The boot time in seconds since the epoch, from the clocks (CLOCK_REALTIME - CLOCK_BOOTTIME, the
// base of /proc/PID/stat's start time) rather than /proc/stat, which a systemd unit with
// ProcSubset=pid cannot read.
std::optional<double> boot_time_seconds();

// The process_* families in the text exposition format 0.0.4, for this process.
std::string render_process_metrics();

}  // namespace dfd::host
