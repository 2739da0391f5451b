// Host config parsing: good configs, syntax errors with line/column, unknown keys with
// suggestions, wrong types, ${VAR} expansion, and the dfd::Config view of a [[plugin]] table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "config.hpp"

namespace dfd::host {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Result<HostConfig> parse(const std::string& text) {
  return parse_host_config(text, "cfg.toml");
}

std::string error_of(const std::string& text) {
  auto r = parse(text);
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? std::string() : r.status().message();
}

TEST(HostConfig, GoodConfig) {
  auto r = parse(R"(plugin_path = ["/opt/dfd/plugins", "rel/plugins"]

[server]
id = "fs-a1"
zone = "zone-a"
listen = "127.0.0.1:9201"
threads = 2
state_dir = "/var/lib/dfd/fs-a1"
shutdown_grace_ms = 2500
log_level = "debug"

[content]
listen = "127.0.0.1:9101"

[[plugin]]
name = "storage-fs"
root = "/srv"

[[plugin]]
name = "digest-openssl"
)");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const HostConfig& c = *r;
  EXPECT_EQ(c.server.id, "fs-a1");
  EXPECT_EQ(c.server.zone, "zone-a");
  EXPECT_EQ(c.server.listen, "127.0.0.1:9201");
  EXPECT_EQ(c.server.threads, 2);
  EXPECT_EQ(c.server.state_dir, "/var/lib/dfd/fs-a1");
  EXPECT_EQ(c.server.shutdown_grace_ms, 2500);
  EXPECT_EQ(c.server.log_level, LogLevel::kDebug);
  ASSERT_EQ(c.plugin_path.size(), 2u);
  EXPECT_EQ(c.plugin_path[0], "/opt/dfd/plugins");
  EXPECT_THAT(c.plugin_path[1], testing::EndsWith("/rel/plugins"));
  EXPECT_EQ(c.plugin_path[1][0], '/');
  ASSERT_NE(c.content, nullptr);
  EXPECT_EQ(c.content->get_as<std::string>("listen")->get(), "127.0.0.1:9101");
  EXPECT_EQ(c.content->get("listen")->source().begin.line, 13u);  // lines survive
  ASSERT_EQ(c.plugins.size(), 2u);
  EXPECT_EQ(c.plugins[0].name, "storage-fs");
  EXPECT_EQ(c.plugins[0].line, 15);
  EXPECT_EQ(c.plugins[1].name, "digest-openssl");
  EXPECT_EQ(c.plugins[1].line, 19);
}

TEST(HostConfig, Defaults) {
  auto r = parse("[server]\nid = \"x\"\n");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->server.zone, "default");
  EXPECT_EQ(r->server.threads, 4);
  EXPECT_EQ(r->server.shutdown_grace_ms, 10000);
  EXPECT_EQ(r->server.log_level, LogLevel::kInfo);
  EXPECT_THAT(r->server.state_dir, testing::EndsWith("/dfd-x"));
  EXPECT_EQ(r->content, nullptr);
  EXPECT_TRUE(r->plugins.empty());
}

TEST(HostConfig, SyntaxErrorHasLineAndColumn) {
  std::string e = error_of("[server]\nid = \"x\"\nthreads = = 4\n");
  EXPECT_THAT(e, StartsWith("cfg.toml:3:"));
  EXPECT_THAT(e, HasSubstr("syntax error"));
}

TEST(HostConfig, UnknownKeySuggestsClosest) {
  EXPECT_EQ(error_of("[server]\nid = \"x\"\nthread = 4\n"),
            "cfg.toml:3: [server]: unknown key 'thread' (did you mean 'threads'?)");
  EXPECT_EQ(error_of("[server]\nid = \"x\"\n\n[[plugins]]\nname = \"a\"\n"),
            "cfg.toml:4: top level: unknown key 'plugins' (did you mean 'plugin'?)");
  EXPECT_EQ(error_of("[server]\nid = \"x\"\ncolour = 1\n"),
            "cfg.toml:3: [server]: unknown key 'colour'");
}

TEST(HostConfig, WrongType) {
  EXPECT_EQ(error_of("[server]\nid = \"x\"\nthreads = \"four\"\n"),
            "cfg.toml:3: [server] key 'threads': expected an integer, got a string");
  EXPECT_EQ(error_of("[server]\nid = 7\n"),
            "cfg.toml:2: [server] key 'id': expected a string, got an integer");
  EXPECT_EQ(error_of("server = 1\n"), "cfg.toml:1: key 'server': expected a table, got an integer");
  EXPECT_EQ(error_of("plugin_path = [1]\n[server]\nid = \"x\"\n"),
            "cfg.toml:1: key 'plugin_path': expected strings, got an integer");
}

TEST(HostConfig, BadValues) {
  EXPECT_EQ(error_of("[server]\nid = \"x\"\nthreads = 0\n"),
            "cfg.toml:3: [server] key 'threads': 0 is out of range [1, 256]");
  EXPECT_EQ(error_of("[server]\nid = \"x\"\nlisten = \"nowhere\"\n"),
            "cfg.toml:3: [server] key 'listen': 'nowhere' is not HOST:PORT with an IPv4 address "
            "or localhost as HOST (e.g. 127.0.0.1:9200, 0.0.0.0:9200)");
  // Issue 14: what the control plane cannot bind is refused here (and so by --check), not only
  // at start.
  EXPECT_THAT(error_of("[server]\nid = \"x\"\nlisten = \"info.example:9200\"\n"),
              HasSubstr("cfg.toml:3: [server] key 'listen': 'info.example:9200' is not HOST:PORT"));
  EXPECT_THAT(error_of("[server]\nid = \"x\"\nlisten = \"[::1]:9200\"\n"),
              HasSubstr("cfg.toml:3: [server] key 'listen'"));
  EXPECT_THAT(error_of("[server]\nid = \"x\"\npublic_url = \"ftp://x\"\n"),
              HasSubstr("cfg.toml:3: [server] key 'public_url': 'ftp://x' must start with "
                        "http:// or https://"));
  EXPECT_THAT(error_of("[server]\nid = \"x\"\nlog_level = \"loud\"\n"),
              HasSubstr("cfg.toml:3: [server] key 'log_level': unknown log level 'loud'"));
  EXPECT_EQ(error_of("[server]\nzone = \"z\"\n"),
            "cfg.toml:1: [server]: missing required key 'id'");
  EXPECT_EQ(error_of("plugin_path = []\n"), "cfg.toml:1: missing required table [server]");
  EXPECT_EQ(error_of("[server]\nid = \"x\"\n[[plugin]]\nroot = \"/\"\n"),
            "cfg.toml:3: [[plugin]] #1: missing required key 'name'");
}

TEST(HostConfig, ControlPlaneLimitsHaveDefaultsAndErrorsNameFileLineKey) {
  auto r = parse("[server]\nid = \"x\"\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->server.max_body_bytes, 65536);
  EXPECT_EQ(r->server.max_head_bytes, 16384);
  EXPECT_EQ(r->server.header_timeout_ms, 10000);
  EXPECT_EQ(r->server.max_connections_per_address, 256);
  r = parse("[server]\nid = \"x\"\nmax_body_bytes = 4096\nmax_connections = 10\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->server.max_body_bytes, 4096);
  EXPECT_EQ(r->server.max_connections, 10);
  EXPECT_EQ(error_of("[server]\nid = \"x\"\nmax_body_bytes = \"64k\"\n"),
            "cfg.toml:3: [server] key 'max_body_bytes': expected an integer, got a string");
  EXPECT_EQ(error_of("[server]\nid = \"x\"\n\nheader_timeout_ms = 0\n"),
            "cfg.toml:4: [server] key 'header_timeout_ms': 0 is out of range [100, 3600000]");
  EXPECT_EQ(error_of("[server]\nid = \"x\"\nmax_conections = 5\n"),
            "cfg.toml:3: [server]: unknown key 'max_conections' (did you mean "
            "'max_connections'?)");
}

TEST(HostConfig, AdminTokenFileIsReadAndCheckedWithFileLineKey) {
  std::string dir = ::testing::TempDir();
  std::string good = dir + "/dfd-admin-token-good";
  std::string bad = dir + "/dfd-admin-token-short";
  std::FILE* f = std::fopen(good.c_str(), "w");
  std::fputs("0123456789abcdef-secret\n", f);
  std::fclose(f);
  f = std::fopen(bad.c_str(), "w");
  std::fputs("short\n", f);
  std::fclose(f);
  auto r = parse("[server]\nid = \"x\"\nadmin_token_file = \"" + good + "\"\n");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->server.admin_token, "0123456789abcdef-secret");
  std::string e = error_of("[server]\nid = \"x\"\nadmin_token_file = \"" + bad + "\"\n");
  EXPECT_THAT(e, StartsWith("cfg.toml:3: [server] key 'admin_token_file': '" + bad + "'"));
  EXPECT_THAT(e, Not(HasSubstr("short\n")));
  e = error_of("[server]\nid = \"x\"\nadmin_token_file = \"/nonexistent/t\"\n");
  EXPECT_THAT(e, StartsWith("cfg.toml:3: [server] key 'admin_token_file': cannot read "
                            "'/nonexistent/t'"));
}

// Issue 15 (wire bearer): the admin token is sent as `Authorization: Bearer <secret>`, so a secret
// the one bearer rule (dfd/wire/bearer.hpp) would refuse is refused at load, not at every request.
TEST(HostConfig, AdminTokenMustBeABearerToken) {
  std::string file = ::testing::TempDir() + "/dfd-admin-token-not-b64";
  std::FILE* f = std::fopen(file.c_str(), "w");
  std::fputs("0123456789abcdef\"secret!\n", f);
  std::fclose(f);
  std::string e = error_of("[server]\nid = \"x\"\nadmin_token_file = \"" + file + "\"\n");
  EXPECT_THAT(e, StartsWith("cfg.toml:3: [server] key 'admin_token_file': '" + file + "'"));
  EXPECT_THAT(e, HasSubstr("RFC 6750 bearer token"));
  EXPECT_THAT(e, Not(HasSubstr("secret!")));
}

TEST(HostConfig, EnvironmentExpansion) {
  ::setenv("DFD_CFG_TEST_DIR", "/data/x", 1);
  ::unsetenv("DFD_CFG_TEST_UNSET");
  auto r = parse(R"([server]
id = "x"
state_dir = "${DFD_CFG_TEST_DIR}/state"
public_url = "http://${DFD_CFG_TEST_UNSET:-127.0.0.1:9}/a$${literal}"

[[plugin]]
name = "storage-fs"
root = "${DFD_CFG_TEST_UNSET:-/srv/default}"
paths = ["${DFD_CFG_TEST_DIR}", "plain"]
)");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->server.state_dir, "/data/x/state");
  EXPECT_EQ(r->server.public_url, "http://127.0.0.1:9/a${literal}");
  TomlConfig pc("cfg.toml", r->plugins[0]);
  EXPECT_EQ(*pc.get_string("root"), "/srv/default");
  EXPECT_EQ(*pc.get_string_list("paths"), (std::vector<std::string>{"/data/x", "plain"}));

  EXPECT_EQ(error_of("[server]\nid = \"x\"\nstate_dir = \"${DFD_CFG_TEST_UNSET}/s\"\n"),
            "cfg.toml:3: key 'server.state_dir': environment variable 'DFD_CFG_TEST_UNSET' is not "
            "set (write ${DFD_CFG_TEST_UNSET:-default} for a fallback)");
  EXPECT_EQ(error_of("[server]\nid = \"${DFD_CFG_TEST_DIR\"\n"),
            "cfg.toml:2: key 'server.id': unterminated '${' at character 1 of the value");
}

// Issue 11 #12: a value that cannot be expanded is never quoted: it may hold a password.
TEST(HostConfig, ExpansionErrorsDoNotQuoteTheValue) {
  const std::string secret = "pa/ss?wo#rd";
  for (const std::string& url : {"amqp://dfd:" + secret + "@127.0.0.1:5672/${DFD_X",
                                 "amqp://dfd:" + secret + "@127.0.0.1:5672/${a b}"}) {
    auto err = error_of("[server]\nid = \"x\"\n[[plugin]]\nname = \"broker-rabbitmq\"\nurl = \"" +
                        url + "\"\n");
    EXPECT_THAT(err, HasSubstr("cfg.toml:5: key 'plugin[0].url'"));
    EXPECT_THAT(err, Not(HasSubstr("wo#rd")));
  }
}

TEST(HostConfig, MissingFile) {
  auto r = load_host_config("/nonexistent/dfd.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/dfd.toml: cannot read config file"));
}

class PluginConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = parse(R"([server]
id = "x"

[[plugin]]
name = "storage-fs"
root = "/srv"
settle_ms = 250
ratio = 2
fraction = 0.5
follow = true
tags = ["a", "b"]
mixed = ["a", 1]
)");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    cfg_ = std::move(r).value();
    pc_ = std::make_unique<TomlConfig>("cfg.toml", cfg_.plugins[0]);
  }
  HostConfig cfg_;
  std::unique_ptr<TomlConfig> pc_;
};

TEST_F(PluginConfigTest, TypedGetters) {
  EXPECT_EQ(pc_->source(), "cfg.toml [[plugin]] storage-fs");
  EXPECT_FALSE(pc_->has("name"));
  EXPECT_TRUE(pc_->has("root"));
  EXPECT_EQ(pc_->keys().size(), 7u);
  EXPECT_EQ(*pc_->get_string("root"), "/srv");
  EXPECT_EQ(*pc_->get_int("settle_ms"), 250);
  EXPECT_DOUBLE_EQ(*pc_->get_double("ratio"), 2.0);
  EXPECT_DOUBLE_EQ(*pc_->get_double("fraction"), 0.5);
  EXPECT_TRUE(*pc_->get_bool("follow"));
  EXPECT_EQ(*pc_->int_or("absent", 7), 7);
}

TEST_F(PluginConfigTest, ErrorsNameFileLineAndKey) {
  auto s = pc_->get_int("root");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            "cfg.toml:6: [[plugin]] storage-fs: key 'root': expected an integer, got a string");
  auto m = pc_->get_string("absent");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kNotFound);
  EXPECT_EQ(m.status().message(), "cfg.toml:4: [[plugin]] storage-fs: missing key 'absent'");
  EXPECT_EQ(pc_->get_string_list("mixed").status().message(),
            "cfg.toml:12: [[plugin]] storage-fs: key 'mixed': expected an array of strings, found "
            "an integer");
  EXPECT_EQ(pc_->error("settle_ms", "must be positive").message(),
            "cfg.toml:7: [[plugin]] storage-fs: key 'settle_ms': must be positive");
  EXPECT_FALSE(pc_->int_or("root", 1).ok());  // wrong type is still an error
}

TEST_F(PluginConfigTest, AllowOnly) {
  EXPECT_TRUE(
      pc_->allow_only({"root", "settle_ms", "ratio", "fraction", "follow", "tags", "mixed"}).ok());
  EXPECT_EQ(pc_->allow_only({"root", "settle_ms", "ratio", "fraction", "follows", "tags", "mixed"})
                .message(),
            "cfg.toml:10: [[plugin]] storage-fs: unknown key 'follow' (did you mean 'follows'?)");
  // The first offending key in file order.
  EXPECT_EQ(pc_->allow_only({"root"}).message(),
            "cfg.toml:7: [[plugin]] storage-fs: unknown key 'settle_ms'");
  EXPECT_EQ(pc_->allow_only({}).message(),
            "cfg.toml:6: [[plugin]] storage-fs: unknown key 'root' (this plugin takes no keys)");
}

}  // namespace
}  // namespace dfd::host
