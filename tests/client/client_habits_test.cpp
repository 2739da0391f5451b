// Unit tests of the client's habits (issue 13): the config file (client_config.hpp), options
// before the command name (cli_order.hpp) and the exit-code table of --help (help_text.hpp).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "cli_order.hpp"
#include "client_config.hpp"
#include "help_text.hpp"
#include "util.hpp"

using namespace dfd::client;

namespace {

// Sets (or unsets, for nullptr) an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_.c_str(), old_.c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

// The message of the CliError that `f` throws ("" when it does not), and its exit code.
template <typename F>
std::string error_of(F f, int* code = nullptr) {
  try {
    f();
  } catch (const CliError& e) {
    if (code) *code = e.exit_code;
    return e.what();
  }
  return "";
}

std::string temp_dir() {
  char tmpl[] = "/tmp/dfd-habits-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "";
}

}  // namespace

TEST(ClientConfigPath, DfdConfigThenXdgThenHome) {
  ScopedEnv a("DFD_CONFIG", "/etc/dfd.toml");
  ScopedEnv b("XDG_CONFIG_HOME", "/x");
  ScopedEnv c("HOME", "/home/u");
  EXPECT_EQ(client_config_path(), "/etc/dfd.toml");
  ::unsetenv("DFD_CONFIG");
  EXPECT_EQ(client_config_path(), "/x/dfd/config.toml");
  ::setenv("XDG_CONFIG_HOME", "", 1);
  EXPECT_EQ(client_config_path(), "/home/u/.config/dfd/config.toml");
  ::unsetenv("HOME");
  EXPECT_EQ(client_config_path(), "");
}

TEST(ClientConfigParse, EveryKey) {
  ScopedEnv home("HOME", "/home/u");
  auto c = parse_client_config(R"(# defaults
server = "https://info-1:9200,https://info-2:9200"
zone = "zone-b"
connections = 12
per_server = 3
limit_rate = "20M"
per_server_rate = 65536
timeout = 2.5
cacert = "~/pki/ca.pem"
cert = "/etc/dfd/me.pem"
key = "me.key"
output_dir = "~/Downloads"
progress = false
)",
                               "/etc/dfd/config.toml");
  EXPECT_EQ(c.file, "/etc/dfd/config.toml");
  EXPECT_EQ(*c.server, "https://info-1:9200,https://info-2:9200");
  EXPECT_EQ(*c.zone, "zone-b");
  EXPECT_EQ(*c.connections, 12u);
  EXPECT_EQ(*c.per_server, 3u);
  EXPECT_EQ(*c.limit_rate, 20.0 * 1024 * 1024);
  EXPECT_EQ(*c.per_server_rate, 65536.0);
  EXPECT_EQ(*c.timeout_s, 2.5);
  EXPECT_EQ(*c.cacert, "/home/u/pki/ca.pem");  // ~/ is $HOME
  EXPECT_EQ(*c.cert, "/etc/dfd/me.pem");       // absolute as it is
  EXPECT_EQ(*c.key, "/etc/dfd/me.key");        // relative to the config file's folder
  EXPECT_EQ(*c.output_dir, "/home/u/Downloads");
  EXPECT_EQ(*c.progress, false);
  EXPECT_EQ(c.lines.at("zone"), 3);
  EXPECT_EQ(c.lines.at("progress"), 13);
}

TEST(ClientConfigParse, EmptyFileSetsNothing) {
  auto c = parse_client_config("# nothing yet\n", "c.toml");
  EXPECT_FALSE(c.server || c.zone || c.connections || c.per_server || c.limit_rate ||
               c.per_server_rate || c.timeout_s || c.cacert || c.cert || c.key || c.output_dir ||
               c.progress);
}

TEST(ClientConfigParse, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"zone = \"a\"\nzonee = \"b\"\n", "c.toml:2: key 'zonee': unknown key (known: server, zone"},
      {"connections = \"8\"\n", "c.toml:1: key 'connections': expected an integer, got a string"},
      {"\n\nper_server = 65\n", "c.toml:3: key 'per_server': 65 is out of range [1, 64]"},
      {"connections = 0\n", "c.toml:1: key 'connections': 0 is out of range [1, 256]"},
      {"progress = \"no\"\n", "c.toml:1: key 'progress': expected true or false, got a string"},
      {"limit_rate = \"fast\"\n", "c.toml:1: key 'limit_rate': 'fast' is not a rate"},
      {"limit_rate = true\n", "c.toml:1: key 'limit_rate': expected a rate like \"20M\""},
      {"limit_rate = -5\n", "c.toml:1: key 'limit_rate': -5 is out of range"},
      {"timeout = 0.05\n", "c.toml:1: key 'timeout': 0.05 is out of range [0.1, 86400]"},
      {"timeout = \"10\"\n", "c.toml:1: key 'timeout': expected a number, got a string"},
      {"server = \"\"\n", "c.toml:1: key 'server': must not be empty"},
      {"zone = \"a\\u001b[2J\"\n", "c.toml:1: key 'zone': control characters are not allowed"},
      {"[get]\nzone = \"a\"\n", "c.toml:1: key 'get': unknown key"},
      {"key = \"k.pem\"\n", "c.toml:1: key 'key': needs cert"},
      {"zone = \n", "c.toml:1:8: syntax error"},
  };
  for (const auto& tc : cases) {
    int code = 0;
    std::string msg = error_of([&] { parse_client_config(tc.text, "c.toml"); }, &code);
    EXPECT_EQ(msg.rfind(tc.message, 0), 0u) << tc.text << " -> " << msg;
    EXPECT_EQ(code, exit_code::kUsage) << tc.text;
  }
}

TEST(ClientConfigLoad, MissingDefaultFileIsNoConfigButMissingDfdConfigIsAnError) {
  std::string dir = temp_dir();
  ASSERT_FALSE(dir.empty());
  ScopedEnv none("DFD_CONFIG", nullptr);
  ScopedEnv xdg("XDG_CONFIG_HOME", dir.c_str());
  EXPECT_EQ(load_client_config().file, "");

  std::string named = dir + "/nope.toml";
  ScopedEnv dc("DFD_CONFIG", named.c_str());
  int code = 0;
  std::string msg = error_of([] { load_client_config(); }, &code);
  EXPECT_EQ(msg, "DFD_CONFIG " + named + ": cannot read: No such file or directory");
  EXPECT_EQ(code, exit_code::kUsage);

  std::ofstream(named) << "zone = \"zone-c\"\n";
  auto c = load_client_config();
  EXPECT_EQ(c.file, named);
  EXPECT_EQ(*c.zone, "zone-c");
  ::unlink(named.c_str());
  ::rmdir(dir.c_str());
}

TEST(ClientConfigApply, CommandLineThenEnvironmentThenFileThenDefault) {
  ScopedEnv s("DFD_SERVER", nullptr);
  ScopedEnv ca("DFD_CA_BUNDLE", nullptr);
  ScopedEnv cc("DFD_CLIENT_CERT", nullptr);
  ScopedEnv ck("DFD_CLIENT_KEY", nullptr);
  auto c = parse_client_config(
      "server = \"https://from-file:9200\"\nzone = \"zone-f\"\nconnections = 12\nper_server = "
      "2\nlimit_rate = \"1M\"\nper_server_rate = \"512K\"\ntimeout = 3\noutput_dir = \"/dl\"\n"
      "progress = false\ncacert = \"/dev/null\"\n",
      "/etc/c.toml");
  std::set<std::string> given;
  auto on_command_line = [&](std::string_view o) { return given.count(std::string(o)) > 0; };

  GlobalOptions g;
  GetOptions go;
  TlsSettings tls;
  apply_client_config(c, on_command_line, g, go, tls);  // nothing given: the file's values
  EXPECT_EQ(g.server, "https://from-file:9200");
  EXPECT_EQ(g.timeout_s, 3);
  EXPECT_EQ(go.zone, "zone-f");
  EXPECT_EQ(go.connections, 12u);
  EXPECT_EQ(go.per_server, 2u);
  EXPECT_EQ(go.limit_rate, 1048576.0);
  EXPECT_EQ(go.per_server_rate, 524288.0);
  EXPECT_EQ(go.output_dir, "/dl");
  EXPECT_TRUE(go.no_progress);
  EXPECT_EQ(tls.ca_file, "/dev/null");

  // The command line wins (the values parsed from it stay).
  given = {"--server",     "--timeout",         "--zone",   "--connections", "--per-server",
           "--limit-rate", "--per-server-rate", "--output", "--cacert"};
  GlobalOptions g2;
  g2.server = "https://cli:9200";
  GetOptions go2;
  go2.zone = "zone-cli";
  TlsSettings tls2;
  apply_client_config(c, on_command_line, g2, go2, tls2);
  EXPECT_EQ(g2.server, "https://cli:9200");
  EXPECT_EQ(g2.timeout_s, GlobalOptions{}.timeout_s);
  EXPECT_EQ(go2.zone, "zone-cli");
  EXPECT_EQ(go2.connections, GetOptions{}.connections);
  EXPECT_EQ(go2.per_server, GetOptions{}.per_server);
  EXPECT_EQ(go2.limit_rate, 0);
  EXPECT_EQ(go2.output_dir, "");  // -o FILE: no output_dir from the file
  EXPECT_EQ(tls2.ca_file, "");

  given = {"--dir"};  // -d DIR from the command line
  GetOptions go_d;
  go_d.output_dir = "/from-cli";
  apply_client_config(c, on_command_line, g2, go_d, tls2);
  EXPECT_EQ(go_d.output_dir, "/from-cli");

  // The environment wins over the file (commands.cpp and curl_policy.cpp read it later).
  given.clear();
  ScopedEnv s2("DFD_SERVER", "https://env:9200");
  ScopedEnv ca2("DFD_CA_BUNDLE", "/env/ca.pem");
  GlobalOptions g3;
  GetOptions go3;
  TlsSettings tls3;
  apply_client_config(c, on_command_line, g3, go3, tls3);
  EXPECT_EQ(g3.server, "");
  EXPECT_EQ(tls3.ca_file, "");
  EXPECT_EQ(go3.zone, "zone-f");
}

TEST(ClientConfigApply, CertAndKeyGoTogetherAndMustBeReadable) {
  ScopedEnv cc("DFD_CLIENT_CERT", nullptr);
  ScopedEnv ck("DFD_CLIENT_KEY", nullptr);
  ScopedEnv ca("DFD_CA_BUNDLE", nullptr);
  auto c = parse_client_config("cert = \"/dev/null\"\nkey = \"/dev/zero\"\n", "/etc/c.toml");
  auto none = [](std::string_view) { return false; };
  GlobalOptions g;
  GetOptions go;
  TlsSettings tls;
  apply_client_config(c, none, g, go, tls);
  EXPECT_EQ(tls.cert_file, "/dev/null");
  EXPECT_EQ(tls.key_file, "/dev/zero");

  TlsSettings from_cli;
  from_cli.cert_file = "/cli.pem";
  apply_client_config(
      c, [](std::string_view o) { return o == "--cert"; }, g, go, from_cli);
  EXPECT_EQ(from_cli.cert_file, "/cli.pem");
  EXPECT_EQ(from_cli.key_file, "");  // the file's key belongs to the file's cert

  auto missing = parse_client_config("\ncacert = \"/no/such/ca.pem\"\n", "/etc/c.toml");
  int code = 0;
  std::string msg = error_of([&] { apply_client_config(missing, none, g, go, tls); }, &code);
  EXPECT_EQ(msg,
            "/etc/c.toml:2: key 'cacert': /no/such/ca.pem: cannot read: No such file or "
            "directory");
  EXPECT_EQ(code, exit_code::kUsage);
}

namespace {
std::vector<std::string> reorder(std::vector<std::string> args) {
  auto is_command = [](std::string_view w) { return w == "get" || w == "ls" || w == "user"; };
  auto takes_value = [](std::string_view o) {
    return o == "--zone" || o == "--server" || o == "-o" || o == "--output";
  };
  return options_after_command(args, is_command, takes_value);
}
using V = std::vector<std::string>;
}  // namespace

TEST(OptionsAfterCommand, MovesLeadingOptionsAfterTheCommandLine) {
  EXPECT_EQ(reorder({"--zone", "a", "get", "X"}), (V{"get", "X", "--zone", "a"}));
  EXPECT_EQ(reorder({"--zone=a", "--json", "get", "X"}), (V{"get", "X", "--zone=a", "--json"}));
  EXPECT_EQ(
      reorder({"-o", "out", "--server", "get", "get"}),
      (V{"get", "-o", "out", "--server", "get"}));  // "get" as --server's value is not the command
  EXPECT_EQ(reorder({"-oout", "get", "X"}), (V{"get", "X", "-oout"}));
  EXPECT_EQ(reorder({"--json", "user", "list"}), (V{"user", "list", "--json"}));
  EXPECT_EQ(reorder({"--zone", "a", "get", "X", "--", "-odd-name"}),
            (V{"get", "X", "--zone", "a", "--", "-odd-name"}));
}

TEST(OptionsAfterCommand, LeavesEverythingElseAlone) {
  for (const V& args : {V{"get", "X", "--zone", "a"}, V{"--help"}, V{}, V{"--zone", "a"},
                        V{"--zone", "a", "nocommand", "X"}, V{"--", "get"}, V{"-", "get"}}) {
    EXPECT_EQ(reorder(args), args);
  }
}

TEST(HelpText, EveryExitCodeOnceInOrder) {
  const auto& t = exit_code_meanings();
  std::vector<int> codes;
  for (const auto& [code, meaning] : t) {
    codes.push_back(code);
    EXPECT_FALSE(meaning.empty());
  }
  EXPECT_EQ(codes, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 130}));
  std::string footer = main_help_footer();
  for (int c : codes) {
    EXPECT_NE(footer.find("\n  " + std::to_string(c) + " "), std::string::npos) << c;
  }
  for (const char* v : {"DFD_SERVER", "DFD_CA_BUNDLE", "DFD_CLIENT_CERT", "DFD_CLIENT_KEY",
                        "DFD_CONFIG", "XDG_CONFIG_HOME"}) {
    EXPECT_NE(footer.find(v), std::string::npos) << v;
  }
}
