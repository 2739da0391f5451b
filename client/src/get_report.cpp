#include "get_report.hpp"

#include <algorithm>
#include <cstdio>

#include "text_table.hpp"
#include "util.hpp"

namespace dfd::client {

void set_failed(FileOutcome& o, int exit_code, const std::string& error) {
  o.report.ok = false;
  o.report.exit_code = exit_code;
  o.report.error = error;
}

std::size_t connection_share(std::size_t budget, std::size_t parallel, std::size_t unfinished) {
  std::size_t running = std::max<std::size_t>(1, std::min(parallel, unfinished));
  return std::max<std::size_t>(1, budget / running);
}

int overall_exit_code(const std::vector<FileOutcome>& outcomes) {
  for (const auto& o : outcomes)
    if (!o.report.ok) return o.report.exit_code;
  return exit_code::kOk;
}

namespace {
nlohmann::json outcome_json(const FileOutcome& o) {
  nlohmann::json j = report_to_json(o.report);
  j["file"] = o.arg;
  if (!o.candidates.empty()) {
    nlohmann::json c = nlohmann::json::array();
    for (const auto& f : o.candidates)
      c.push_back({{"id", f.id}, {"name", f.name}, {"size", f.size}, {"uid", f.uid}});
    j["candidates"] = c;
  }
  return j;
}

std::string result_of(const DownloadReport& r) {
  if (r.ok) return "ok";
  if (r.exit_code == exit_code::kInterrupted) return "interrupted";
  return "failed (exit " + std::to_string(r.exit_code) + ")";
}
}  // namespace

nlohmann::json outcomes_to_json(const std::vector<FileOutcome>& outcomes, bool several) {
  if (!several && outcomes.size() == 1) return outcome_json(outcomes.front());
  nlohmann::json files = nlohmann::json::array();
  std::string error;
  for (const auto& o : outcomes) {
    files.push_back(outcome_json(o));
    if (!o.report.ok && error.empty()) error = (o.arg.empty() ? "" : o.arg + ": ") + o.report.error;
  }
  int code = overall_exit_code(outcomes);
  return {{"ok", code == exit_code::kOk}, {"exit_code", code}, {"error", error}, {"files", files}};
}

std::string summary_table(const std::vector<FileOutcome>& outcomes) {
  std::vector<std::vector<std::string>> rows = {{"FILE", "SIZE", "RESULT", "TIME", "SPEED"}};
  std::size_t ok = 0;
  for (const auto& o : outcomes) {
    const auto& r = o.report;
    ok += r.ok ? 1 : 0;
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f s", r.seconds);
    rows.push_back({printable(r.name.empty() ? o.arg : r.name), r.size ? human_size(r.size) : "-",
                    result_of(r), o.ran ? secs : "-", r.ok ? human_rate(r.average_speed) : "-"});
  }
  return format_table(rows, {false, true, false, true, false}) + std::to_string(outcomes.size()) +
         " files: " + std::to_string(ok) + " ok, " + std::to_string(outcomes.size() - ok) +
         " failed\n";
}

}  // namespace dfd::client
