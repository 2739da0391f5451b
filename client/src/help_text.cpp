#include "help_text.hpp"

#include <cstdio>

#include "util.hpp"

namespace dfd::client {

const std::vector<std::pair<int, std::string>>& exit_code_meanings() {
  namespace x = exit_code;
  static const std::vector<std::pair<int, std::string>> table = {
      {x::kOk, "success (get: every file complete and verified)"},
      {x::kFailure, "any other failure"},
      {x::kUsage, "usage: bad arguments or config file, no server configured"},
      {x::kAuth, "authentication: not logged in, wrong password, token refused (HTTP 401/403)"},
      {x::kServer, "info server unreachable, or it answered an error (5xx, an invalid reply)"},
      {x::kNotFound, "not found: no such file"},
      {x::kExists, "get: the output exists (use --force)"},
      {x::kIncomplete, "get: every file server failed; verified chunks kept, a rerun resumes"},
      {x::kDigest, "get: whole-file digest mismatch"},
      {x::kLocalIo, "get: local I/O error (disk full, permission); state kept"},
      {x::kDeadline, "get: --deadline passed; verified chunks kept"},
      {x::kTls, "TLS: certificate not trusted or handshake refused"},
      {x::kLocked, "get: another dfd is downloading into the same output path"},
      {x::kThrottled, "throttled: the info server said 429 (too many failed logins, rate limit)"},
      {x::kAmbiguous, "a name or uid prefix matches several files (they are listed)"},
      {x::kInterrupted, "interrupted (Ctrl-C, SIGTERM); state kept, a rerun resumes"},
  };
  return table;
}

std::string main_help_footer() {
  std::string s =
      "Options may come before or after the command name. 'dfd help COMMAND' shows a\n"
      "command's options.\n"
      "\n"
      "Examples:\n"
      "  dfd login --email you@example.com   log in (asks for the password)\n"
      "  dfd ls                              list the files\n"
      "  dfd get big.iso                     download big.iso into this folder\n"
      "  dfd get a.iso b.iso -d ~/Downloads  two files into a folder\n"
      "  dfd get big.iso --limit-rate 20M    at most 20 MiB/s\n"
      "  dfd get big.iso -o - | sha256sum    verified bytes to stdout\n"
      "\n"
      "Environment:\n"
      "  DFD_SERVER       info server URL[,URL...] (like --server)\n"
      "  DFD_CA_BUNDLE    CA bundle (like --cacert)\n"
      "  DFD_CLIENT_CERT  client certificate (like --cert)\n"
      "  DFD_CLIENT_KEY   its key (like --key)\n"
      "  DFD_CONFIG       config file (default $XDG_CONFIG_HOME/dfd/config.toml)\n"
      "  XDG_CONFIG_HOME  folder of the config file and the login (default ~/.config)\n"
      "The command line wins over the environment, which wins over the config file.\n"
      "\n"
      "Files:\n"
      "  ~/.config/dfd/config.toml   defaults: server, zone, connections, per_server,\n"
      "                              limit_rate, per_server_rate, timeout, cacert, cert,\n"
      "                              key, output_dir, progress\n"
      "  ~/.config/dfd/credentials   the login (mode 0600; 'dfd logout' removes it)\n"
      "  FILE.dfd-part, FILE.dfd-state  an unfinished download (a rerun resumes it)\n"
      "\n"
      "Exit codes:\n";
  for (const auto& [code, meaning] : exit_code_meanings()) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-4d %s\n", code, meaning.c_str());
    s += line;
  }
  s += "\nMore: man dfd, docs/client.md.";
  return s;
}

std::string get_help_footer() {
  return "FILE is a name, a catalog id or a uid prefix; several FILEs are downloaded one\n"
         "after another (or --parallel N at once). A rerun of an interrupted get resumes it.\n"
         "\n"
         "Examples:\n"
         "  dfd get big.iso                       into ./big.iso\n"
         "  dfd get 3f9a1c                        by uid prefix\n"
         "  dfd get a.iso b.iso -d ~/Downloads    into a folder (created if missing)\n"
         "  dfd get big.iso -o - | sha256sum      verified bytes to stdout\n"
         "  dfd get big.iso --limit-rate 20M      at most 20 MiB/s (K, M, G: powers of 1024)\n"
         "  dfd get big.iso --zone zone-a         your zone's servers first\n"
         "  dfd get big.iso --json -q             one JSON report on stdout, for scripts\n"
         "\n"
         "Exit codes: see 'dfd help'.";
}

}  // namespace dfd::client
