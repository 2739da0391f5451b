// `dfd get` (issue 13): the command line's file arguments (names, ids, uid prefixes:
// file_selector.hpp) become catalog ids, the files are downloaded one after another or
// --parallel N at once with one shared connection budget, and one report is printed
// (get_report.hpp): with --json exactly one JSON document on stdout, on failure too.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "api_client.hpp"
#include "bounded_json.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "downloader.hpp"
#include "file_selector.hpp"
#include "get_report.hpp"
#include "location_policy.hpp"
#include "output_path.hpp"
#include "progress_view.hpp"
#include "rate_limiter.hpp"
#include "stdout_stream.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) {
  g_interrupted = true;
}

using SteadyTime = std::chrono::steady_clock::time_point;

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGXFSZ, SIG_IGN);  // a file size limit becomes EFBIG, reported like a full disk
}

// The output paths in use by this command's downloads: two arguments whose files have the same
// name must not write one part file at once.
class PathsInUse {
 public:
  bool claim(const std::string& path) {
    std::lock_guard<std::mutex> g(mu_);
    return paths_.insert(path).second;
  }
  void release(const std::string& path) {
    std::lock_guard<std::mutex> g(mu_);
    paths_.erase(path);
  }

 private:
  std::mutex mu_;
  std::set<std::string> paths_;
};

struct GetContext {
  explicit GetContext(const GetOptions& options)
      : go(options),
        limiter(std::make_shared<RateLimiter>(options.limit_rate, options.per_server_rate)) {}
  const GetOptions& go;
  std::shared_ptr<RateLimiter> limiter;  // --limit-rate, --per-server-rate: for every file
  bool several = false;                  // more than one file argument
  SteadyTime deadline{};
  PathsInUse paths;
};

Manifest read_manifest_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CliError(exit_code::kUsage, "cannot read " + path);
  std::string text;  // read at most one byte more than the limit: the parser refuses it
  char buf[65536];
  while (text.size() <= kMaxJsonBytes && f.read(buf, sizeof buf).gcount() > 0)
    text.append(buf, static_cast<std::size_t>(f.gcount()));
  return parse_manifest_text(text);
}

// Downloads catalog file `id` (or the --manifest file when `api` is null) into `out`. Every
// failure, before the download too (manifest refused, output exists), ends up in out.report.
// `connections`: this download's share of the budget (0 = the downloader's default).
void download(InfoApi* api, const std::string& id, GetContext& ctx, std::size_t connections,
              bool show_progress, FileOutcome& out) {
  const GetOptions& go = ctx.go;
  std::string claimed;  // the output path, this command's own claim on it (PathsInUse)
  OutputLock lock;      // and the other processes' (output_lock.hpp)
  auto claim = [&](const std::string& path) {
    if (!ctx.paths.claim(path))
      throw CliError(exit_code::kLocked, "another file of this command is being written to " +
                                             path + ": give one file per -o, or get it alone");
    claimed = path;
    lock = claim_output(path, go.force);
  };
  try {
    // -o FILE (under -d too) is claimed (folders, lock, --force) before a download token is asked
    // for; -o DIR/, -d DIR or no -o once the manifest has the name.
    if (!is_stdout_output(go.output))
      if (auto path = output_path_without_name(go.output, go.output_dir)) claim(*path);
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
      m = read_manifest_file(go.manifest_file);
    }
    out.report.name = m.name;
    out.report.uid = m.uid;
    out.report.size = m.size;
    DownloadOptions o;
    std::unique_ptr<StdoutStream> stream;  // -o -
    if (is_stdout_output(go.output)) {
      stream = std::make_unique<StdoutStream>();
      stream->configure(o, m.chunk_size, go.stream_window, [] { g_interrupted = true; });
    } else {
      if (claimed.empty())
        claim(resolve_output_path(go.output, go.output_dir, m.name, ctx.several));
      o.output = claimed;
    }
    out.report.path = stream ? "-" : o.output;
    o.force = go.force;
    o.connections = connections;
    o.per_server = go.per_server ? go.per_server : 4;
    o.stall_timeout = std::chrono::milliseconds(static_cast<long>(go.stall_timeout_s * 1000));
    o.connect_timeout = std::max(o.stall_timeout, std::chrono::milliseconds(1000));
    o.silent_after = std::min(
        o.stall_timeout, std::chrono::milliseconds(static_cast<long>(go.silent_after_s * 1000)));
    o.min_speed = static_cast<long>(go.min_speed);
    o.min_speed_time = std::chrono::seconds(static_cast<long>(std::ceil(go.min_speed_time_s)));
    o.deadline = ctx.deadline;
    o.deadline_s = go.deadline_s;
    o.stop_after_chunks = go.stop_after_chunks;
    o.limit_rate = go.limit_rate;
    o.per_server_rate = go.per_server_rate;
    o.rate_limiter = ctx.limiter;  // the files of one command share the limits
    o.interrupt = &g_interrupted;
    ProgressView view(show_progress
                          ? ProgressView::mode_for(go.quiet, go.no_progress, STDERR_FILENO)
                          : ProgressView::Mode::kOff,
                      go.verbose, stderr, STDERR_FILENO);
    o.on_progress = [&](const Progress& p) { view.show(p); };
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
    out.report = Downloader(std::move(m), o).run();
    out.ran = true;
    view.finish(out.report.ok);
    if (view.last()) out.progress = *view.last();
    if (stream) {
      stream->finish(out.report);
      out.stream_summary = stream->summary();
    }
  } catch (const CliError& e) {
    set_failed(out, e.exit_code, e.what());
  } catch (const std::exception& e) {
    set_failed(out, exit_code::kFailure, e.what());
  }
  if (!claimed.empty()) ctx.paths.release(claimed);
}

// The file arguments: several (issue 13), or the one of older callers.
std::vector<std::string> file_args(const GetOptions& go) {
  if (!go.ids.empty()) return go.ids;
  if (!go.id.empty()) return {go.id};
  return {};
}

// Lists the files and asks for one on stdin (dfd get without a file).
std::string ask_for_file(InfoApi& api) {
  auto files = api.list();
  if (files.empty()) throw CliError(exit_code::kNotFound, "no files on the server");
  print_table(files);
  std::fprintf(stderr, "File to download (name, id or uid prefix): ");
  std::fflush(stderr);
  std::string arg;
  if (!std::getline(std::cin, arg)) throw CliError(exit_code::kUsage, "no file given");
  while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\r')) arg.pop_back();
  while (!arg.empty() && arg.front() == ' ') arg.erase(0, 1);
  if (arg.empty()) throw CliError(exit_code::kUsage, "no file given");
  return arg;
}

// Resolves every argument to a catalog id (one file list for all of them). An argument that
// cannot be resolved fails alone; an argument naming the same file as an earlier one is
// downloaded once (`dup_of` points at the earlier one).
std::vector<std::string> resolve_all(InfoApi& api, std::vector<FileOutcome>& outcomes,
                                     std::vector<std::size_t>& dup_of) {
  FileResolver resolver(api);
  std::vector<std::string> ids(outcomes.size());
  dup_of.assign(outcomes.size(), outcomes.size());
  std::optional<CliError> list_failed;  // the list is not asked for again after it failed
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    auto& o = outcomes[i];
    try {
      if (list_failed && !is_id_spec(parse_file_spec(o.arg))) throw *list_failed;
      ids[i] = resolver.resolve(o.arg);
    } catch (const AmbiguousFile& e) {
      set_failed(o, e.exit_code, e.what());
      o.candidates = e.candidates;
      continue;
    } catch (const CliError& e) {
      set_failed(o, e.exit_code, e.what());
      bool selection = e.exit_code == exit_code::kNotFound || e.exit_code == exit_code::kUsage;
      if (!selection && !list_failed) list_failed = e;
      continue;
    }
    if (const auto* files = resolver.files())
      for (const auto& f : *files)
        if (std::to_string(f.id) == ids[i]) {
          o.report.name = f.name;
          o.report.uid = f.uid;
          o.report.size = f.size;
        }
    for (std::size_t k = 0; k < i; ++k)
      if (ids[k] == ids[i] && dup_of[k] == outcomes.size()) {
        dup_of[i] = k;
        std::fprintf(stderr, "dfd: '%s' is the same file as '%s': downloaded once\n",
                     printable(o.arg).c_str(), printable(outcomes[k].arg).c_str());
        break;
      }
  }
  return ids;
}

// Downloads the resolved files: one after another, or `parallel` at once. The connection budget
// (--connections, default 16) is divided among the downloads running when each one starts.
void download_all(InfoApi& api, const std::vector<std::string>& ids,
                  const std::vector<std::size_t>& dup_of, std::vector<FileOutcome>& outcomes,
                  GetContext& ctx) {
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    if (!ids[i].empty() && dup_of[i] == outcomes.size()) todo.push_back(i);
  const GetOptions& go = ctx.go;
  bool several = outcomes.size() > 1;
  std::size_t parallel = std::max<std::size_t>(1, std::min(go.parallel, todo.size()));
  std::size_t budget = go.connections ? go.connections : 16;
  std::atomic<std::size_t> next{0}, finished{0};
  auto worker = [&](InfoApi* mine) {
    for (std::size_t n; (n = next++) < todo.size();) {
      FileOutcome& o = outcomes[todo[n]];
      if (g_interrupted) {
        set_failed(o, exit_code::kInterrupted, "interrupted before it started");
        ++finished;
        continue;
      }
      std::size_t conns = go.connections;
      if (parallel > 1) conns = connection_share(budget, parallel, todo.size() - finished.load());
      if (several && parallel == 1 && !go.json && !go.quiet && ::isatty(STDERR_FILENO))
        std::fprintf(stderr, "[%zu/%zu] %s\n", n + 1, todo.size(),
                     printable(o.report.name.empty() ? o.arg : o.report.name).c_str());
      download(mine, ids[todo[n]], ctx, conns, parallel == 1, o);
      // An interrupted download (Ctrl-C, SIGTERM, the test hook) stops the whole command.
      if (o.report.exit_code == exit_code::kInterrupted) g_interrupted = true;
      ++finished;
      if (parallel > 1 && !go.quiet)  // the errors follow the summary
        std::fprintf(stderr, "dfd: %s: %s\n",
                     printable(o.report.name.empty() ? o.arg : o.report.name).c_str(),
                     o.report.ok
                         ? "done"
                         : ("failed (exit " + std::to_string(o.report.exit_code) + ")").c_str());
    }
  };
  if (parallel == 1) {
    worker(&api);
  } else {
    std::vector<InfoApi> apis(parallel, api);  // one InfoApi per thread
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < parallel; ++t) threads.emplace_back(worker, &apis[t]);
    for (auto& t : threads) t.join();
  }
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    if (dup_of[i] < outcomes.size()) {
      std::string arg = outcomes[i].arg;
      outcomes[i] = outcomes[dup_of[i]];
      outcomes[i].arg = arg;
    }
}

// Prints the outcome (text or one JSON document) and returns the exit code.
// `command_error`: a failure of the whole command (usage, not logged in, ...), said once.
int finish(const GetOptions& go, const std::vector<FileOutcome>& outcomes, bool several,
           const std::string& command_error = "") {
  int code = overall_exit_code(outcomes);
  if (go.json) {
    auto j = outcomes_to_json(outcomes, several);
    if (!command_error.empty()) j["error"] = command_error;
    std::printf("%s\n", json_text(j).c_str());
  } else if (!go.quiet) {
    if (!several) {
      const auto& o = outcomes.front();
      bool streamed = !o.stream_summary.empty();  // -o -: stdout carries the file's bytes
      if (o.ran && o.report.exit_code != exit_code::kExists)
        std::fprintf(streamed ? stderr : stdout, "%s",
                     report_to_text(o.report, o.progress ? &*o.progress : nullptr).c_str());
      if (streamed) std::fprintf(stderr, "%s\n", o.stream_summary.c_str());
    } else {
      std::printf("%s", summary_table(outcomes).c_str());
    }
  }
  std::fflush(stdout);
  if (!command_error.empty()) {
    std::fprintf(stderr, "dfd: %s\n", printable(command_error, true).c_str());
    return code;
  }
  for (const auto& o : outcomes) {
    if (o.report.ok) continue;
    std::string prefix = several && !o.arg.empty() ? printable(o.arg) + ": " : "";
    std::fprintf(stderr, "dfd: %s%s\n", prefix.c_str(), printable(o.report.error, true).c_str());
  }
  return code;
}
}  // namespace

void print_get_failure_json(int exit_code, const std::string& error) {
  FileOutcome o;
  set_failed(o, exit_code, error);
  std::printf("%s\n", json_text(outcomes_to_json({o}, false)).c_str());
  std::fflush(stdout);
}

int cmd_get(const GlobalOptions& g, const GetOptions& go) {
  std::vector<std::string> args = file_args(go);
  bool several = args.size() > 1;
  std::vector<FileOutcome> outcomes(std::max<std::size_t>(1, args.size()));
  for (std::size_t i = 0; i < args.size(); ++i) outcomes[i].arg = args[i];
  GetContext ctx{go};
  ctx.several = several;
  try {
    if (is_stdout_output(go.output)) {
      // --manifest FILE names its file (not picked from a listing)
      std::size_t named =
          go.manifest_file.empty() ? args.size() : std::max<std::size_t>(1, args.size());
      check_stdout_streaming(go.json, go.output_dir, named, ::isatty(STDOUT_FILENO));
    } else if (several && output_path_without_name(go.output, go.output_dir))
      throw CliError(exit_code::kUsage, "-o " + go.output + " names one file but " +
                                            std::to_string(args.size()) +
                                            " files are asked for: use -o DIR/ or -d DIR");
    if (!go.manifest_file.empty() && !args.empty())
      throw CliError(exit_code::kUsage, "--manifest names the file: give no file argument");
    if (args.empty() && go.json && go.manifest_file.empty())
      throw CliError(exit_code::kUsage,
                     "give the file to download (a name, an id or a uid prefix)");
    // --deadline counts from here: the info server's answers are within it too.
    if (go.deadline_s > 0)
      ctx.deadline = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(go.deadline_s));
    install_signal_handlers();
    if (!go.manifest_file.empty()) {
      download(nullptr, "", ctx, go.connections, true, outcomes.front());
      return finish(go, outcomes, false);
    }
    InfoApi api = logged_in_api(g);
    api.set_deadline(ctx.deadline, go.deadline_s);
    if (args.empty()) outcomes.front().arg = ask_for_file(api);
    std::vector<std::size_t> dup_of;
    auto ids = resolve_all(api, outcomes, dup_of);
    download_all(api, ids, dup_of, outcomes, ctx);
  } catch (const CliError& e) {
    // A failure of the whole command (usage, not logged in, ...): every file failed with it.
    for (auto& o : outcomes) set_failed(o, e.exit_code, e.what());
    return finish(go, outcomes, several, e.what());
  }
  return finish(go, outcomes, several);
}

}  // namespace dfd::client
