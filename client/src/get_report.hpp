// What `dfd get` prints at the end (issue 13): for one file its report, for several a summary
// table (file, size, result, time, speed), and with --json exactly one JSON document, on failure
// too. Pure functions of the outcomes: no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "downloader.hpp"
#include "manifest.hpp"

namespace dfd::client {

// One file argument of `dfd get` and what became of it.
struct FileOutcome {
  std::string arg;                    // as typed ("" for --manifest or the interactive prompt)
  DownloadReport report;              // ok/exit_code/error always set; the rest when known
  std::vector<FileEntry> candidates;  // the files an ambiguous argument matches
  bool ran = false;                   // the downloader ran (its text report is worth printing)
  std::string stream_summary;         // -o -: what was streamed (stdout_stream.hpp); else ""
  std::optional<Progress> progress;   // the run's last Progress (server states for the report)
};

// One download's share of the connection budget of `dfd get --parallel N`: `budget` connections
// divided among the downloads running when it starts (at most `parallel`, at most the files not
// finished yet), at least 1.
std::size_t connection_share(std::size_t budget, std::size_t parallel, std::size_t unfinished);

// An outcome that failed before (or instead of) a download.
void set_failed(FileOutcome& o, int exit_code, const std::string& error);

// 0 when every outcome is ok, else the exit code of the first failed one (command-line order).
int overall_exit_code(const std::vector<FileOutcome>& outcomes);

// The --json document. One argument (`several` false): its report object plus "file" (the
// argument) and, when ambiguous, "candidates". Several: {"ok", "exit_code", "error" (the first
// failure's, prefixed with its argument; "" when ok), "files": [those objects]}.
nlohmann::json outcomes_to_json(const std::vector<FileOutcome>& outcomes, bool several);

// The summary of several files: a header, one row per outcome (its catalog name, or the argument
// when the name is unknown), and a last line "N files: N ok, N failed". Names through
// printable().
std::string summary_table(const std::vector<FileOutcome>& outcomes);

}  // namespace dfd::client
