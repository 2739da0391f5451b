#include "commands.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "api_client.hpp"
#include "cli_common.hpp"
#include "credentials.hpp"
#include "password_input.hpp"
#include "server_list.hpp"
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
  return InfoApi(servers, creds->token);
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

int cmd_login(const GlobalOptions& g, const std::string& email, bool password_stdin) {
  std::optional<Credentials> old;
  try {
    old = load_credentials();
  } catch (const CliError&) {
  }
  auto servers = resolve_servers(g, old ? &*old : nullptr);
  std::string pw = read_password(password_stdin);
  InfoApi api(servers, "");
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
    InfoApi(creds->server.empty() ? resolve_servers(g, nullptr) : parse_server_list(creds->server),
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

}  // namespace dfd::client
