// The `dfd` commands, without the argument parser (main.cpp owns CLI11). Each returns the exit
// status; failures are thrown as CliError and printed by main as "dfd: <message>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dfd::client {

struct GlobalOptions {
  std::string server;     // --server URL[,URL...]; empty = $DFD_SERVER, then the login's list
  double timeout_s = 10;  // --timeout SECONDS: each info-server call (connect + answer)
};

struct GetOptions {
  std::string id;                // empty = list the files and ask on stdin
  std::vector<std::string> ids;  // several names / ids / uid prefixes (issue 13)
  std::string output;            // FILE, DIR/ (-o), or - (stdout)
  std::string output_dir;        // -d DIR
  std::size_t parallel = 1;      // files downloaded at once (one shared connection budget)
  double limit_rate = 0;         // --limit-rate, bytes/s (0 = none)
  double per_server_rate = 0;    // --per-server-rate, bytes/s (0 = none)
  bool quiet = false;            // -q: no progress, no text report
  bool verbose = false;          // -v: live per-server view
  std::size_t connections = 0;
  std::size_t per_server = 4;
  std::string zone;
  bool no_progress = false;
  bool json = false;
  bool force = false;
  double stall_timeout_s = 5.0;
  double silent_after_s = 0.3;
  double min_speed = 1024;                // --min-speed BYTES/s per request (0 = off)
  double min_speed_time_s = 20;           // --min-speed-time SECONDS
  double deadline_s = 0;                  // --deadline SECONDS for the whole command (0 = none)
  std::size_t stop_after_chunks = 0;      // test hook (hidden option)
  std::string manifest_file;              // --manifest FILE: use this manifest, no info server
  bool allow_insecure_locations = false;  // send the token to http:// locations of an https
                                          // manifest (location_policy.hpp)
  std::uint64_t stream_window = 0;  // -o -: test hook (hidden --stream-window BYTES); 0 = default
};

int cmd_login(const GlobalOptions& g, const std::string& email, bool password_stdin);
int cmd_logout(const GlobalOptions& g);
// `globs`: only names matching one of these fnmatch(3) patterns (none: every file).
int cmd_ls(const GlobalOptions& g, bool json, const std::vector<std::string>& globs = {});
// `file`: a name, id or uid prefix (file_selector.hpp).
int cmd_info(const GlobalOptions& g, const std::string& file, bool json);
int cmd_get(const GlobalOptions& g, const GetOptions& o);
// The one JSON document of `dfd get --json` when it failed before cmd_get ran (a command line
// CLI11 refused, a bad --cacert): {"ok": false, "exit_code", "error", ...} on stdout.
void print_get_failure_json(int exit_code, const std::string& error);

}  // namespace dfd::client
