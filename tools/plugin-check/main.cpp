// dfd-plugin-check: the command line (CLI11 lives in this one translation unit). The rest:
// plugin_check.hpp.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "config.hpp"
#include "plugin_check.hpp"
#include "plugin_loader.hpp"

#ifndef DFD_VERSION
#define DFD_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace dfd::plugin_check;
  CLI::App app{
      "dfd-plugin-check: loads a plugin through dfd-host's loader and runs its kind's "
      "conformance suite",
      "dfd-plugin-check"};
  Options o;
  std::string level = "error";
  app.add_option("--kind", o.kind, "the plugin's kind")
      ->required()
      ->check(CLI::IsMember({"storage", "auth", "broker", "digest"}));
  CLI::Option* plugin =
      app.add_option("--plugin", o.plugin, "the plugin's library, PATH/libdfd-NAME.so");
  app.add_option("--config", o.config,
                 "a dfd-host config: its [[plugin]] named NAME is the one checked, its plugins of "
                 "the kinds NAME requires provide them; ${DFD_CHECK_DIR} and ${DFD_CHECK_ROOT} "
                 "name the check's scratch and storage root");
  app.add_option("--filter", o.filter, "run only the checks whose name contains SUBSTR");
  app.add_flag("--list", o.list, "print the names of the kind's checks and exit");
  app.add_option("--log-level", level, "the plugins' and the loader's log level (stderr)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.set_version_flag("--version", dfd::host::version_banner("dfd-plugin-check", DFD_VERSION));
  app.footer(
      "Examples:\n"
      "  dfd-plugin-check --kind storage --plugin ./libdfd-storage-memory.so\n"
      "  dfd-plugin-check --kind auth --plugin P/lib/dfd/plugins/libdfd-auth-sqlite.so \\\n"
      "                   --config auth-check.toml       # db = \"${DFD_CHECK_DIR}/auth.db\"\n"
      "  dfd-plugin-check --kind storage --list\n"
      "\n"
      "Each check runs on a fresh temp dir: DFD_CHECK_DIR (scratch) and, for storage,\n"
      "DFD_CHECK_ROOT (the conformance files); the default storage config is\n"
      "root = \"${DFD_CHECK_ROOT}\".\n"
      "\n"
      "Exit codes:\n"
      "  0  every check passed or was skipped\n"
      "  1  a check failed (FAIL lines on stdout)\n"
      "  2  a bad command line, or the plugin or config was refused (the message on stderr)\n"
      "\n"
      "More: man dfd-plugin-check, docs/plugins.md.");
  try {
    app.parse(argc, argv);
    if (!o.list && plugin->count() == 0) throw CLI::RequiredError("--plugin");
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitRefused;
  }
  o.log_level = dfd::host::parse_log_level(level).value();

  CheckPlan plan;
  if (o.list) {
    if (!parse_kind(o.kind, &plan.kind)) return kExitRefused;
    return list_checks(plan.kind, o.filter);
  }
  if (dfd::Status st = preflight(o, &plan); !st.ok()) {
    std::fprintf(stderr, "dfd-plugin-check: %s\n", st.message().c_str());
    return kExitRefused;
  }
  return run_checks(plan, o);
}
