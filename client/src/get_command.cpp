// `dfd get`: from the command line's file arguments to downloads and one report.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "api_client.hpp"
#include "bounded_json.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "downloader.hpp"
#include "location_policy.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) {
  g_interrupted = true;
}

class ProgressLine {
 public:
  explicit ProgressLine(bool on) : on_(on) {}
  ~ProgressLine() { end(); }
  void show(const Progress& p) {
    if (!on_) return;
    double pct = p.total_bytes ? 100.0 * static_cast<double>(p.done_bytes) /
                                     static_cast<double>(p.total_bytes)
                               : 100.0;
    std::string eta = p.eta_s < 0 ? "--" : human_duration(p.eta_s);
    std::fprintf(stderr, "\r%5.1f%%  %s / %s  %s  ETA %s  servers %zu/%zu\x1b[K", pct,
                 human_size(p.done_bytes).c_str(), human_size(p.total_bytes).c_str(),
                 human_rate(p.speed).c_str(), eta.c_str(), p.servers_active, p.servers_usable);
    std::fflush(stderr);
    shown_ = true;
  }
  void end() {
    if (shown_) std::fputc('\n', stderr);
    shown_ = false;
  }

 private:
  bool on_;
  bool shown_ = false;
};

using SteadyTime = std::chrono::steady_clock::time_point;
int get_with(InfoApi* api, const std::string& id, const GetOptions& go, SteadyTime deadline);
}  // namespace

int cmd_get(const GlobalOptions& g, const GetOptions& go) {
  // Refuse early (before a download token is issued) when -o names an existing file.
  if (!go.output.empty() && !go.force && ::access(go.output.c_str(), F_OK) == 0)
    throw CliError(exit_code::kExists, go.output + " already exists (use --force to overwrite it)");
  // --deadline counts from here: the info server's answers are within it too.
  SteadyTime deadline{};
  if (go.deadline_s > 0)
    deadline = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double>(go.deadline_s));
  if (!go.manifest_file.empty()) return get_with(nullptr, go.id, go, deadline);
  InfoApi api = logged_in_api(g);
  api.set_deadline(deadline, go.deadline_s);
  std::string id = go.id;
  if (id.empty()) {
    auto files = api.list();
    if (files.empty()) throw CliError(exit_code::kNotFound, "no files on the server");
    print_table(files);
    std::fprintf(stderr, "File ID to download: ");
    std::fflush(stderr);
    if (!std::getline(std::cin, id)) throw CliError(exit_code::kUsage, "no file id given");
    while (!id.empty() && (id.back() == ' ' || id.back() == '\r')) id.pop_back();
    while (!id.empty() && id.front() == ' ') id.erase(0, 1);
    if (id.empty()) throw CliError(exit_code::kUsage, "no file id given");
  }
  return get_with(&api, id, go, deadline);
}

namespace {
int get_with(InfoApi* api, const std::string& id, const GetOptions& go, SteadyTime deadline) {
  Manifest m;
  LocationPolicy policy;
  // Any https server in the list counts: a renewed manifest may come from another server.
  policy.manifest_over_https = false;
  for (const auto& s : api ? api->servers() : std::vector<std::string>{})
    policy.manifest_over_https = policy.manifest_over_https || s.rfind("https://", 0) == 0;
  policy.allow_insecure = go.allow_insecure_locations;
  auto warn = [](const std::string& line) {
    std::fprintf(stderr, "dfd: warning: %s\n", printable(line, true).c_str());
  };
  if (api) {
    m = api->manifest(id, go.zone);
    apply_location_policy(m, policy, warn);
  } else {
    std::ifstream f(go.manifest_file, std::ios::binary);
    if (!f) throw CliError(exit_code::kUsage, "cannot read " + go.manifest_file);
    std::string text;  // read at most one byte more than the limit: the parser refuses it
    char buf[65536];
    while (text.size() <= kMaxJsonBytes && f.read(buf, sizeof buf).gcount() > 0)
      text.append(buf, static_cast<std::size_t>(f.gcount()));
    m = parse_manifest_text(text);
  }
  DownloadOptions o;
  o.output = go.output.empty() ? default_output_name(m.name) : go.output;
  o.force = go.force;
  o.connections = go.connections;
  o.per_server = go.per_server ? go.per_server : 4;
  o.stall_timeout = std::chrono::milliseconds(static_cast<long>(go.stall_timeout_s * 1000));
  o.connect_timeout = std::max(o.stall_timeout, std::chrono::milliseconds(1000));
  o.silent_after = std::min(o.stall_timeout,
                            std::chrono::milliseconds(static_cast<long>(go.silent_after_s * 1000)));
  o.min_speed = static_cast<long>(go.min_speed);
  o.min_speed_time = std::chrono::seconds(static_cast<long>(std::ceil(go.min_speed_time_s)));
  o.deadline = deadline;
  o.deadline_s = go.deadline_s;
  o.stop_after_chunks = go.stop_after_chunks;
  o.interrupt = &g_interrupted;
  ProgressLine line(!go.no_progress && ::isatty(STDERR_FILENO));
  o.on_progress = [&](const Progress& p) { line.show(p); };
  if (api)
    o.renew = [&](std::string& err) -> std::optional<Manifest> {
      try {
        Manifest renewed = api->manifest(id, go.zone);
        apply_location_policy(renewed, policy, nullptr);
        return renewed;
      } catch (const std::exception& e) {
        err = e.what();
        return std::nullopt;
      }
    };
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGXFSZ, SIG_IGN);  // a file size limit becomes EFBIG, reported like a full disk

  DownloadReport r = Downloader(std::move(m), o).run();
  line.end();
  if (go.json) {
    std::printf("%s\n", json_text(report_to_json(r)).c_str());
  } else if (r.exit_code != exit_code::kExists) {
    std::printf("%s", report_to_text(r).c_str());
  }
  std::fflush(stdout);
  if (!r.ok) std::fprintf(stderr, "dfd: %s\n", printable(r.error, true).c_str());
  return r.exit_code;
}
}  // namespace

}  // namespace dfd::client
