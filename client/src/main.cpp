// dfd: the command line. The only translation unit that includes CLI11.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "admin_commands.hpp"
#include "cli_order.hpp"
#include "client_config.hpp"
#include "commands.hpp"
#include "curl_policy.hpp"
#include "help_text.hpp"
#include "units.hpp"
#include "util.hpp"

namespace {

// The app of `dfd help user add` (nullptr for a name that is no command), and its full name.
const CLI::App* command_of(const CLI::App& app, const std::vector<std::string>& words,
                           std::string& full_name) {
  const CLI::App* cur = &app;
  full_name = app.get_name();
  for (const auto& w : words) {
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : cur->get_subcommands([](const CLI::App*) { return true; }))
      if (sub->check_name(w) && !sub->get_group().empty()) next = sub;
    if (!next) return nullptr;
    cur = next;
    full_name += " " + cur->get_name();
  }
  return cur;
}

// Whether an option of any command (looked up by "--name" or "-x") reads a value.
bool option_takes_value(const CLI::App& app, std::string_view name) {
  if (const CLI::Option* o = app.get_option_no_throw(std::string(name)))
    return o->get_type_size_max() > 0 && o->get_expected_min() > 0;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (option_takes_value(*sub, name)) return true;
  return false;
}

// One look for every value in --help: a word (N, SECONDS, PATH...) instead of CLI11's types and
// ranges ("UINT:INT in [1 - 256]"; a value out of range is still refused, saying the range);
// positionals show only their name. Choices (--role's {user,admin}) stay.
void name_option_values(CLI::App& app) {
  static const std::vector<std::pair<std::string, std::string>> kWords = {
      {"--server", "URL"},
      {"--cacert", "FILE"},
      {"--cert", "FILE"},
      {"--key", "FILE"},
      {"--timeout", "SECONDS"},
      {"--output", "PATH"},
      {"--dir", "DIR"},
      {"--parallel", "N"},
      {"--connections", "N"},
      {"--per-server", "N"},
      {"--zone", "ZONE"},
      {"--stall-timeout", "SECONDS"},
      {"--silent-after", "SECONDS"},
      {"--min-speed", "BYTES/S"},
      {"--min-speed-time", "SECONDS"},
      {"--deadline", "SECONDS"},
      {"--manifest", "FILE"},
      {"--email", "EMAIL"},
      {"--name", "NAME"},
      {"--role", "ROLE"},
      {"--limit-rate", "RATE"},
      {"--per-server-rate", "RATE"}};
  for (CLI::Option* o : app.get_options()) {
    if (o->get_type_size_max() == 0 || o->get_name().empty()) continue;
    if (o->get_lnames().empty() && o->get_snames().empty()) {
      o->type_name("");  // a positional: "FILE ..." rather than "FILE TEXT ..."
      continue;
    }
    std::string name = o->get_lnames().empty() ? "" : "--" + o->get_lnames().front();
    for (const auto& [option, word] : kWords) {
      if (option != name) continue;
      o->type_name(word);
      for (int i = 0;; ++i) {
        CLI::Validator* v = nullptr;
        try {
          v = o->get_validator(i);
        } catch (const CLI::OptionNotFound&) {
          break;
        }
        if (v->get_description().rfind('{', 0) != 0) v->description("");
      }
    }
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    name_option_values(*sub);
}

bool given_on_command_line(const CLI::App& app, std::string_view name) {
  if (const CLI::Option* o = app.get_option_no_throw(std::string(name)); o && o->count() > 0)
    return true;
  for (const CLI::App* sub : app.get_subcommands())
    if (given_on_command_line(*sub, name)) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dfd::client;
  CLI::App app{"dfd: verified parallel downloads from dfd file servers", "dfd"};
  app.require_subcommand(1);
  GlobalOptions g;
  app.add_option("--server", g.server,
                 "info server URL, or several: URL1,URL2,... tried in order when one is down "
                 "(default: $DFD_SERVER, then the config file, then the login's)")
      ->type_name("URL");
  TlsSettings tls;
  app.add_option("--cacert", tls.ca_file,
                 "PEM CA bundle that https servers are checked against (default: "
                 "$DFD_CA_BUNDLE, then the config file, then the system's store)")
      ->type_name("FILE");
  app.add_option("--cert", tls.cert_file,
                 "PEM client certificate for servers that want one (default: $DFD_CLIENT_CERT, "
                 "then the config file)")
      ->type_name("FILE");
  app.add_option("--key", tls.key_file,
                 "PEM private key of --cert (default: $DFD_CLIENT_KEY, then the config file, "
                 "then the --cert file)")
      ->type_name("FILE");
  app.fallthrough();  // the options above also work after the command name
  app.set_version_flag("--version", "dfd 0.1.0");

  std::string email;
  bool password_stdin = false;
  auto* login = app.add_subcommand("login", "log in and store the user token");
  login->add_option("--email", email, "account email")->required();
  login->add_flag("--password-stdin", password_stdin, "read the password from stdin");

  auto* logout = app.add_subcommand("logout", "forget the stored login");

  bool ls_json = false;
  std::vector<std::string> ls_globs;  // issue 13 (address): dfd ls GLOB...
  auto* ls = app.add_subcommand("ls", "list the files (LIVE: a file server holding it is up)");
  ls->add_option(
      "GLOB", ls_globs,
      "only the names matching one of these shell patterns (quote them: 'movies/*.iso')");
  ls->add_flag("--json", ls_json, "print JSON");

  std::string info_id;
  bool info_json = false;
  auto* info = app.add_subcommand("info", "show a file's manifest");
  info->add_option("FILE", info_id, "the file: its name, id (or id:N) or uid prefix (uid:HEX)")
      ->required();
  info->add_flag("--json", info_json, "print JSON");

  GetOptions go;
  auto* get = app.add_subcommand("get", "download files from every file server holding them");
  // Issue 13 (address): names, ids and uid prefixes, several at once, --parallel.
  get->add_option("FILE", go.ids,
                  "the files: names (exact), ids (or id:N, name:N for a name of digits) or uid "
                  "prefixes (4+ hex digits, or uid:HEX); none: list the files and ask");
  get->add_option("--parallel", go.parallel,
                  "download this many of the files at once, sharing --connections (default 1: "
                  "one after another)")
      ->check(CLI::Range(1, 64));
  // Output (issue 13: -o FILE | DIR/ | -, -d DIR; client/src/output_path.hpp, stdout_stream.hpp).
  get->add_option("-o,--output", go.output,
                  "where to save: FILE; DIR/ or an existing DIR (DIR/NAME); - for stdout (the "
                  "verified bytes in order; report on stderr; no --json). Missing folders are "
                  "created. Default: the file's name in the current folder");
  get->add_option("-d,--dir", go.output_dir,
                  "save into this folder as DIR/NAME (created when missing); with -o REL: DIR/REL");
  get->add_option("--stream-window", go.stream_window)
      ->group("");  // test hook: the -o - window in bytes (default max(64 MiB, 16 chunks))
  get->add_option("--connections", go.connections,
                  "total connections (default min(16, 4 x servers), at least 8)")
      ->check(CLI::Range(1, 256));
  get->add_option("--per-server", go.per_server, "connections per file server (default 4)")
      ->check(CLI::Range(1, 64));
  get->add_option("--zone", go.zone, "your zone (its servers are listed first)");
  get->add_flag("--no-progress", go.no_progress, "no live progress line");
  // Progress display (issue 13): -q quiet, -v the live per-server view.
  get->add_flag("-q,--quiet", go.quiet,
                "no progress and no text report (errors still go to stderr; the exit code tells)");
  get->add_flag("-v,--verbose", go.verbose,
                "a live line per file server under the progress line: bytes, speed, connections, "
                "state (a terminal only)");
  get->add_flag("--json", go.json,
                "print one JSON document on stdout, on failure too (ok, exit_code, error)");
  get->add_flag("--force", go.force, "overwrite an existing output file");
  get->add_option("--stall-timeout", go.stall_timeout_s,
                  "seconds without data before a request fails (default 5)")
      ->check(CLI::Range(0.05, 3600.0));
  get->add_option("--silent-after", go.silent_after_s,
                  "seconds without data before another server also fetches that chunk "
                  "(default 0.3; raise it on lossy long-distance links)")
      ->check(CLI::Range(0.05, 3600.0));
  get->add_option("--min-speed", go.min_speed,
                  "a request slower than this many bytes/s for --min-speed-time fails and its "
                  "chunk goes to another server (default 1024; 0 = off)")
      ->check(CLI::Range(0.0, 1e12));
  get->add_option("--min-speed-time", go.min_speed_time_s,
                  "seconds a request may stay below --min-speed (default 20)")
      ->check(CLI::Range(1.0, 86400.0));
  get->add_option("--deadline", go.deadline_s,
                  "give up after this many seconds (exit 10); verified chunks are kept for a rerun")
      ->check(CLI::Range(0.001, 1e9));
  get->add_option("--manifest", go.manifest_file,
                  "use this manifest JSON (with locations and download_token); no info server");
  get->add_flag("--allow-insecure-locations", go.allow_insecure_locations,
                "send the download token to plain-http file servers even though the manifest "
                "came over https (otherwise they are skipped)");
  get->add_option("--stop-after-chunks", go.stop_after_chunks)
      ->group("");  // test hook: stop like an interrupt after N chunks

  // Speed limits of `dfd get` and the timeout of every info-server call (issue 13; RATE is
  // parsed by units.hpp's parse_rate).
  app.add_option("--timeout", g.timeout_s,
                 "seconds each info-server call may take, connect and whole answer (default 10); "
                 "then the next server of --server's list, or exit 4")
      ->check(CLI::Range(0.1, 86400.0));
  auto rate_option = [get](const std::string& name, double& target, const std::string& help) {
    get->add_option_function<std::string>(
           name,
           [&target, name](const std::string& text) {
             auto bytes = parse_rate(text);
             if (!bytes)
               throw CLI::ValidationError(name, "'" + text + "' is not a rate: use " + kRateSyntax);
             target = *bytes;
           },
           help)
        ->type_name("RATE");
  };
  rate_option("--limit-rate", go.limit_rate,
              "at most RATE bytes/s for the whole command, every file and server together: 500K, "
              "20M, 1.5G (K/M/G = 1024 powers; 0 = no limit)");
  rate_option("--per-server-rate", go.per_server_rate,
              "at most RATE bytes/s from each file server (0 = no limit)");

  // ---- admin (issue 13): dfd user add|list|disable|enable|passwd, dfd revoke ----
  AdminOptions ao;
  auto* user = app.add_subcommand("user", "manage users (admin only, except your own password)");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "add a user (the password is asked twice)");
  user_add->add_option("EMAIL", ao.email, "the new user's e-mail")->required();
  user_add->add_option("--name", ao.name, "display name");
  user_add->add_option("--role", ao.role, "user (default) or admin")
      ->check(CLI::IsMember({"user", "admin"}));
  user_add->add_flag("--password-stdin", ao.password_stdin, "read the password from stdin");
  auto* user_list = user->add_subcommand("list", "list the users: id, e-mail, name, role, state");
  user_list->add_flag("--json", ao.json, "print JSON");
  auto* user_disable = user->add_subcommand(
      "disable", "disable a user: no login, every session and download token ends");
  user_disable->add_option("USER", ao.user, "e-mail or user id")->required();
  auto* user_enable = user->add_subcommand("enable", "let a disabled user log in again");
  user_enable->add_option("USER", ao.user, "e-mail or user id")->required();
  auto* user_passwd = user->add_subcommand(
      "passwd", "change a password: your own (asks the current one) or, as an admin, a user's");
  user_passwd->add_option("USER", ao.user, "e-mail or user id (default: yourself)");
  user_passwd->add_flag("--password-stdin", ao.password_stdin,
                        "read from stdin: for your own password the current one, then the new "
                        "one (one line each)");
  auto* revoke = app.add_subcommand(
      "revoke", "end every session and revoke every download token of a user (admin)");
  revoke->add_option("USER", ao.user, "e-mail or user id")->required();

  // Habits (issue 13): `dfd help [COMMAND]`, examples, environment and exit codes in --help,
  // options before the command name, the config file (client_config.hpp).
  std::vector<std::string> help_words;
  auto* help = app.add_subcommand("help", "show the help of dfd or of a command");
  help->add_option("COMMAND", help_words, "a command, e.g. get");
  help->fallthrough(false);
  app.footer(main_help_footer());
  get->footer(get_help_footer());
  name_option_values(app);
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  args = options_after_command(
      args,
      [&](std::string_view w) {
        std::string name;
        return command_of(app, {std::string(w)}, name) != nullptr;
      },
      [&](std::string_view o) { return option_takes_value(app, o); });
  const std::vector<std::string> words = args;  // in order, the command's options after it
  std::reverse(args.begin(), args.end());       // CLI11 takes the words last first

  try {
    app.parse(std::move(args));
  } catch (const CLI::ParseError& e) {
    // --help and --version print as CLI11 does; a usage error is one "dfd: " line like every
    // other error, naming where the options are.
    int rc = e.get_exit_code() == 0 ? app.exit(e) : 1;
    if (rc != 0) {
      std::string command;
      for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
        sub = sub->get_subcommands().front();
        command += " " + sub->get_name();
      }
      std::string what = e.what();
      std::string name;
      if (command.empty() && !words.empty() && words.front()[0] != '-' &&
          !command_of(app, {words.front()}, name))
        what = "unknown command '" + words.front() + "'";
      std::fprintf(stderr, "dfd: %s (see 'dfd help%s')\n", printable(what).c_str(),
                   command.c_str());
    }
    // Issue 13 (address): `dfd get --json` prints its one JSON document for a bad command line too.
    bool get_json = false;
    bool seen_get = false;
    for (const auto& w : words) {
      seen_get = seen_get || w == "get";
      get_json = get_json || (seen_get && w == "--json");
    }
    if (rc != 0 && get_json) print_get_failure_json(exit_code::kUsage, e.what());
    return rc == 0 ? 0 : exit_code::kUsage;
  }

  if (*help) {
    std::string name;
    const CLI::App* cmd = command_of(app, help_words, name);
    if (!cmd) {
      std::fprintf(stderr, "dfd: help: unknown command '%s' (see 'dfd help')\n",
                   printable(help_words.empty() ? "" : help_words.back()).c_str());
      return exit_code::kUsage;
    }
    std::fputs(cmd->get_formatter()->make_help(cmd, name, CLI::AppFormatMode::Normal).c_str(),
               stdout);
    return exit_code::kOk;
  }

  try {
    apply_client_config(
        load_client_config(), [&](std::string_view o) { return given_on_command_line(app, o); }, g,
        go, tls);
    set_tls_settings(tls_settings_from(tls));
    if (*login) return cmd_login(g, email, password_stdin);
    if (*logout) return cmd_logout(g);
    if (*ls) return cmd_ls(g, ls_json, ls_globs);
    if (*info) return cmd_info(g, info_id, info_json);
    if (*get) return cmd_get(g, go);
    // admin (issue 13)
    if (*user_add) return cmd_user_add(g, ao);
    if (*user_list) return cmd_user_list(g, ao);
    if (*user_disable) return cmd_user_set_disabled(g, ao, true);
    if (*user_enable) return cmd_user_set_disabled(g, ao, false);
    if (*user_passwd) return cmd_user_passwd(g, ao);
    if (*revoke) return cmd_revoke(g, ao);
  } catch (const CliError& e) {
    std::fprintf(stderr, "dfd: %s\n", printable(e.what(), true).c_str());
    if (*get && go.json) print_get_failure_json(e.exit_code, e.what());  // e.g. a bad --cacert
    return e.exit_code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dfd: %s\n", printable(e.what(), true).c_str());
    if (*get && go.json) print_get_failure_json(exit_code::kFailure, e.what());
    return exit_code::kFailure;
  }
  return exit_code::kUsage;
}
