#include "commands.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "api_client.hpp"
#include "bounded_json.hpp"
#include "credentials.hpp"
#include "downloader.hpp"
#include "location_policy.hpp"
#include "server_list.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) {
  g_interrupted = true;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The servers to talk to: --server, then DFD_SERVER, then the list stored at login; each may be
// a comma-separated list (server_list.hpp).
std::vector<std::string> resolve_servers(const GlobalOptions& g, const Credentials* creds) {
  if (!g.server.empty()) return parse_server_list(g.server);
  if (!env("DFD_SERVER").empty()) return parse_server_list(env("DFD_SERVER"));
  if (creds && !creds->server.empty()) return parse_server_list(creds->server);
  throw CliError(exit_code::kUsage, "no server given: use --server URL[,URL...] or set DFD_SERVER");
}

// Every info-server call of a command: each attempt (connect + whole answer) within --timeout.
InfoApi info_api(const GlobalOptions& g, std::vector<std::string> servers, std::string token) {
  Failover::Options f;
  f.attempt_timeout =
      std::chrono::milliseconds(static_cast<long>(std::ceil(std::max(g.timeout_s, 0.001) * 1000)));
  return InfoApi(std::move(servers), std::move(token), f);
}

// An InfoApi with the stored user token for the resolved servers. The token goes only to servers
// of the list it was obtained with (servers sharing one database all accept it).
InfoApi logged_in_api(const GlobalOptions& g) {
  auto creds = load_credentials();
  if (!creds)
    throw CliError(exit_code::kAuth, "not logged in: run 'dfd login --email EMAIL' first");
  auto servers = resolve_servers(g, &*creds);
  auto stored = parse_server_list(creds->server);
  auto outside = servers_outside(servers, stored);
  if (!outside.empty())
    throw CliError(exit_code::kAuth, "not logged in to " + join_server_list(outside) +
                                         " (logged in to " + join_server_list(stored) +
                                         "): run 'dfd login' first");
  return info_api(g, servers, creds->token);
}

std::string read_password(bool from_stdin) {
  std::string pw;
  if (!from_stdin && ::isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "Password: ");
    std::fflush(stderr);
    termios old{};
    bool have = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (have) {
      termios quiet = old;
      quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
      quiet.c_lflag |= ECHONL;
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::getline(std::cin, pw);
    if (have) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  } else {
    std::getline(std::cin, pw);
  }
  while (!pw.empty() && (pw.back() == '\r' || pw.back() == '\n')) pw.pop_back();
  if (pw.empty()) throw CliError(exit_code::kUsage, "login failed: empty password");
  return pw;
}

// JSON for stdout: every non-ASCII character as \uXXXX, so no control character (C0 are always
// escaped by nlohmann; C1 and bidi overrides would otherwise pass as UTF-8) reaches a terminal.
std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', /*ensure_ascii=*/true);
}

// Names and every other text from the server are printed through printable() (util.hpp).
void print_table(const std::vector<FileEntry>& files) {
  std::size_t wid = 2, wname = 4, wsize = 4;
  std::vector<std::string> sizes, names;
  for (const auto& f : files) {
    wid = std::max(wid, std::to_string(f.id).size());
    names.push_back(printable(f.name));
    wname = std::max(wname, names.back().size());
    sizes.push_back(human_size(f.size));
    wsize = std::max(wsize, sizes.back().size());
  }
  std::printf("%-*s  %-*s  %*s  %s\n", static_cast<int>(wid), "ID", static_cast<int>(wname), "NAME",
              static_cast<int>(wsize), "SIZE", "DIGEST");
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    std::string dig = f.digest.empty() ? "-" : printable(f.alg + ":" + short_digest(f.digest));
    std::printf("%-*s  %-*s  %*s  %s\n", static_cast<int>(wid), std::to_string(f.id).c_str(),
                static_cast<int>(wname), names[i].c_str(), static_cast<int>(wsize),
                sizes[i].c_str(), dig.c_str());
  }
}

nlohmann::json entry_json(const FileEntry& f) {
  return {{"id", f.id},
          {"uid", f.uid},
          {"name", f.name},
          {"size", f.size},
          {"digest", {{"alg", f.alg}, {"value", f.digest}}}};
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
}  // namespace

namespace {
using SteadyTime = std::chrono::steady_clock::time_point;
int get_with(InfoApi* api, const std::string& id, const GetOptions& go, SteadyTime deadline);
}  // namespace

int cmd_login(const GlobalOptions& g, const std::string& email, bool password_stdin) {
  std::optional<Credentials> old;
  try {
    old = load_credentials();
  } catch (const CliError&) {
  }
  auto servers = resolve_servers(g, old ? &*old : nullptr);
  std::string pw = read_password(password_stdin);
  InfoApi api = info_api(g, servers, "");
  auto r = api.login(email, pw);
  save_credentials({join_server_list(servers), r.token, r.expires_at, r.email});
  std::printf("logged in to %s as %s%s\n", printable(api.server()).c_str(),
              printable(r.email).c_str(),
              r.expires_at.empty() ? "" : printable(" (until " + r.expires_at + ")").c_str());
  return exit_code::kOk;
}

int cmd_logout(const GlobalOptions& g) {
  std::optional<Credentials> creds;
  try {
    creds = load_credentials();
  } catch (const CliError&) {
    remove_credentials();
    std::printf("logged out\n");
    return exit_code::kOk;
  }
  if (!creds) {
    std::printf("not logged in\n");
    return exit_code::kOk;
  }
  try {
    info_api(g,
             creds->server.empty() ? resolve_servers(g, nullptr) : parse_server_list(creds->server),
             creds->token)
        .logout();
  } catch (const CliError& e) {
    std::fprintf(stderr, "dfd: warning: %s (the local login is removed anyway)\n",
                 printable(e.what()).c_str());
  }
  remove_credentials();
  std::printf("logged out\n");
  return exit_code::kOk;
}

int cmd_ls(const GlobalOptions& g, bool json) {
  auto files = logged_in_api(g).list();
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& f : files) arr.push_back(entry_json(f));
    std::printf("%s\n", json_text({{"files", arr}, {"total", files.size()}}).c_str());
  } else if (files.empty()) {
    std::printf("no files\n");
  } else {
    print_table(files);
  }
  return exit_code::kOk;
}

int cmd_info(const GlobalOptions& g, const std::string& id, bool json) {
  auto j = logged_in_api(g).manifest_json(id, "");
  auto m = parse_manifest(j);
  if (json) {
    j.erase("download_token");  // a secret; `dfd get` fetches its own
    std::printf("%s\n", json_text(j).c_str());
    return exit_code::kOk;
  }
  std::printf("id:         %lld\n", static_cast<long long>(m.id));
  std::printf("name:       %s\n", printable(m.name).c_str());
  std::printf("uid:        %s\n", printable(m.uid).c_str());
  std::printf("size:       %s (%llu bytes)\n", human_size(m.size).c_str(),
              static_cast<unsigned long long>(m.size));
  std::printf("digest:     %s\n", printable(m.alg + ":" + m.digest).c_str());
  std::printf("chunks:     %zu x %s\n", m.chunk_count(), human_size(m.chunk_size).c_str());
  std::printf("locations:  %zu\n", m.locations.size());
  for (const auto& l : m.locations)
    std::printf("  %-12s %-10s %s%s\n", printable(l.server_id).c_str(), printable(l.zone).c_str(),
                printable(l.url).c_str(), l.healthy ? "" : " (unhealthy)");
  return exit_code::kOk;
}

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
  o.limit_rate = go.limit_rate;
  o.per_server_rate = go.per_server_rate;
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
