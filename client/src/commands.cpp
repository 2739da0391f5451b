#include "commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "api_client.hpp"
#include "cli_common.hpp"
#include "credentials.hpp"
#include "file_selector.hpp"
#include "password_input.hpp"
#include "server_list.hpp"
#include "text_table.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
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

}  // namespace

// The token goes only to servers of the list it was obtained with (servers sharing one database
// all accept it).
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

namespace {
std::string read_password(bool from_stdin) {
  std::string pw = read_secret("Password: ", from_stdin);
  if (pw.empty()) throw CliError(exit_code::kUsage, "login failed: empty password");
  return pw;
}

}  // namespace

// C0 are always escaped by nlohmann; C1 and bidi overrides would otherwise pass as UTF-8.
std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', /*ensure_ascii=*/true);
}

void print_table(const std::vector<FileEntry>& files) {
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "SIZE", "LIVE", "DIGEST"}};
  for (const auto& f : files)
    rows.push_back({std::to_string(f.id), printable(f.name), human_size(f.size),
                    !f.available   ? "?"
                    : *f.available ? "yes"
                                   : "no",
                    f.digest.empty() ? "-" : printable(f.alg + ":" + short_digest(f.digest))});
  std::printf("%s", format_table(rows, {false, false, true, false, false}).c_str());
}

nlohmann::json entry_json(const FileEntry& f) {
  return {{"id", f.id},
          {"uid", f.uid},
          {"name", f.name},
          {"size", f.size},
          {"digest", {{"alg", f.alg}, {"value", f.digest}}},
          {"available", f.available ? nlohmann::json(*f.available) : nlohmann::json()}};
}

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

int cmd_ls(const GlobalOptions& g, bool json, const std::vector<std::string>& globs) {
  auto files = matching_globs(logged_in_api(g).list(), globs);
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& f : files) arr.push_back(entry_json(f));
    std::printf("%s\n", json_text({{"files", arr}, {"total", files.size()}}).c_str());
  } else if (files.empty()) {
    std::printf(globs.empty() ? "no files\n" : "no files match\n");
  } else {
    print_table(files);
  }
  return exit_code::kOk;
}

int cmd_info(const GlobalOptions& g, const std::string& file, bool json) {
  auto api = logged_in_api(g);
  auto j = api.manifest_json(FileResolver(api).resolve(file), "");
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

}  // namespace dfd::client
