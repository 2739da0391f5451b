// dfd-host: one generic server program; the plugin list in its config makes it an information
// server or a file server. Usage: dfd-host --config FILE [--check] [--log-level LEVEL].
#include <iostream>

#include <CLI/CLI.hpp>

#include "config.hpp"
#include "dfd/plugin.hpp"
#include "host.hpp"

#ifndef DFD_VERSION
#define DFD_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked mask and only the main
  // thread's sigwait() sees SIGINT/SIGTERM/SIGHUP.
  dfd::host::block_host_signals();

  CLI::App app{"dfd-host: loads the plugins listed in a TOML config and serves them", "dfd-host"};
  dfd::host::HostOptions options;
  std::string level;
  app.add_option("-c,--config", options.config_path, "TOML config file")->required();
  app.add_flag("--check", options.check,
               "load and validate the config and every plugin, print them, and exit");
  app.add_option("--log-level", level, "trace|debug|info|warn|error|off (overrides [server])")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.set_version_flag("--version", std::string("dfd-host ") + DFD_VERSION + " (plugin ABI " +
                                        std::to_string(dfd::kAbiMajor) + "." +
                                        std::to_string(dfd::kAbiMinor) + ", " +
                                        dfd::kBuildSignature + ")");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!level.empty()) options.log_level = *dfd::host::parse_log_level(level);
  try {
    return dfd::host::run_host(options);
  } catch (const std::exception& e) {
    std::cerr << "dfd-host: fatal: " << e.what() << std::endl;
    return 1;
  }
}
