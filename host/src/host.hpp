// dfd-host's life cycle: load the config, load and create the plugins, (with --check: report and
// exit), otherwise start plugins, the file-server role and the control plane, wait for signals,
// and shut everything down in reverse. See docs/host.md.
#pragma once

#include <optional>
#include <string>

#include "dfd/host_services.hpp"

namespace dfd::host {

struct HostOptions {
  std::string config_path;
  bool check = false;                 // --check: load + create only, print, exit
  std::optional<LogLevel> log_level;  // --log-level (overrides [server] log_level)
};

// The signals the host handles with sigwait(). Block them (in every thread) before any thread
// starts: call block_host_signals() first thing in main().
void block_host_signals();

// Runs dfd-host; returns the process exit status (0 = clean). Messages for the operator go to
// stderr (errors) and stdout (--check report).
int run_host(const HostOptions& options);

}  // namespace dfd::host
