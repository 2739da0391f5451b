#include "config.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dfd/wire/bearer.hpp"
#include "suggest.hpp"
#include "tls_files.hpp"

namespace dfd::host {
namespace fs = std::filesystem;

namespace {

int line_of(const toml::node& n) {
  return static_cast<int>(n.source().begin.line);
}

std::string at(const std::string& file, int line) {
  return file + ":" + std::to_string(line) + ": ";
}

// Expands one string; `where` is "FILE:LINE: KEYPATH" for messages.
Status expand_string(std::string& s, const std::string& where) {
  if (s.find('$') == std::string::npos) return Status::Ok();
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (s.compare(i, 2, "${") != 0) {
      out += s[i++];
      continue;
    }
    std::size_t close = s.find('}', i + 2);
    if (close == std::string::npos) {
      // The value is not quoted: it may be a URL with a password in it.
      return Status::InvalidArgument(where + ": unterminated '${' at character " +
                                     std::to_string(i + 1) + " of the value");
    }
    std::string inner = s.substr(i + 2, close - i - 2);
    std::string var = inner;
    std::optional<std::string> fallback;
    if (auto dash = inner.find(":-"); dash != std::string::npos) {
      var = inner.substr(0, dash);
      fallback = inner.substr(dash + 2);
    }
    bool valid = !var.empty();
    for (char c : var) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) valid = false;
    }
    if (!valid) {
      return Status::InvalidArgument(
          where + ": bad variable name in the '${...}' at character " + std::to_string(i + 1) +
          " of the value (letters, digits and '_'; '$${' for a literal)");
    }
    const char* v = std::getenv(var.c_str());
    if (v && *v) {
      out += v;
    } else if (fallback) {
      out += *fallback;
    } else {
      return Status::InvalidArgument(where + ": environment variable '" + var +
                                     "' is not set (write ${" + var + ":-default} for a fallback)");
    }
    i = close + 1;
  }
  s = std::move(out);
  return Status::Ok();
}

Status expand_node(toml::node& n, const std::string& file, const std::string& path);

Status expand_table(toml::table& t, const std::string& file, const std::string& path) {
  for (auto&& [k, v] : t) {
    DFD_RETURN_IF_ERROR(expand_node(
        v, file, path.empty() ? std::string(k.str()) : path + "." + std::string(k.str())));
  }
  return Status::Ok();
}

Status expand_node(toml::node& n, const std::string& file, const std::string& path) {
  if (auto* s = n.as_string()) {
    std::string where = file + ":" + std::to_string(line_of(n)) + ": key '" + path + "'";
    return expand_string(s->get(), where);
  }
  if (auto* t = n.as_table()) return expand_table(*t, file, path);
  if (auto* a = n.as_array()) {
    std::size_t i = 0;
    for (auto& e : *a) {
      DFD_RETURN_IF_ERROR(expand_node(e, file, path + "[" + std::to_string(i++) + "]"));
    }
  }
  return Status::Ok();
}

// Typed readers for the host's own tables; `section` is "[server]" etc.
struct TableReader {
  const toml::table& t;
  const std::string& file;
  std::string section;

  Status unknown_keys(const std::vector<std::string>& allowed) const {
    for (auto&& [k, v] : t) {
      std::string key(k.str());
      bool ok = false;
      for (const auto& a : allowed) ok = ok || a == key;
      if (!ok) {
        return Status::InvalidArgument(at(file, line_of(v)) + section + ": unknown key '" + key +
                                       "'" + did_you_mean(key, allowed));
      }
    }
    return Status::Ok();
  }
  Status type_error(const std::string& key, const toml::node& v, const char* expected) const {
    return Status::InvalidArgument(at(file, line_of(v)) + section + " key '" + key +
                                   "': expected " + expected + ", got " + toml_type_name(v));
  }
  Status str(const std::string& key, std::string& out) const {
    const toml::node* v = t.get(key);
    if (!v) return Status::Ok();
    if (!v->is_string()) return type_error(key, *v, "a string");
    out = v->as_string()->get();
    return Status::Ok();
  }
  Status integer(const std::string& key, int& out, long min, long max) const {
    const toml::node* v = t.get(key);
    if (!v) return Status::Ok();
    if (!v->is_integer()) return type_error(key, *v, "an integer");
    std::int64_t x = v->as_integer()->get();
    if (x < min || x > max) {
      return Status::InvalidArgument(at(file, line_of(*v)) + section + " key '" + key +
                                     "': " + std::to_string(x) + " is out of range [" +
                                     std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    out = static_cast<int>(x);
    return Status::Ok();
  }
  Status boolean(const std::string& key, bool& out) const {
    const toml::node* v = t.get(key);
    if (!v) return Status::Ok();
    if (!v->is_boolean()) return type_error(key, *v, "a boolean");
    out = v->as_boolean()->get();
    return Status::Ok();
  }
  int line_of_key(const std::string& key) const {
    const toml::node* v = t.get(key);
    return v ? line_of(*v) : static_cast<int>(t.source().begin.line);
  }
  Status value_error(const std::string& key, const std::string& what) const {
    const toml::node* v = t.get(key);
    int line = v ? line_of(*v) : static_cast<int>(t.source().begin.line);
    return Status::InvalidArgument(at(file, line) + section + " key '" + key + "': " + what);
  }
};

bool valid_listen(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  std::string port = s.substr(colon + 1);
  if (port.size() > 5) return false;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  if (std::stoi(port) > 65535) return false;
  // What the control plane can bind (control_plane.cpp): an IPv4 address or "localhost"; judged
  // here so that --check refuses what a start would.
  std::string host = s.substr(0, colon);
  in_addr a{};
  return host == "localhost" || ::inet_pton(AF_INET, host.c_str(), &a) == 1;
}

// [server] tls_cert, tls_key, tls_client_ca: resolved against `base`, then checked by building
// the TLS context once (tls_files.hpp), so every refusal names file:line:key.
Status parse_server_tls(const TableReader& r, const fs::path& base, ServerOptions& s) {
  for (auto [key, out] : {std::pair<const char*, std::string*>{"tls_cert", &s.tls_cert},
                          {"tls_key", &s.tls_key},
                          {"tls_client_ca", &s.tls_client_ca}}) {
    DFD_RETURN_IF_ERROR(r.str(key, *out));
    if (r.t.get(key) && out->empty()) return r.value_error(key, "must not be empty");
    if (!out->empty()) *out = (base / *out).lexically_normal().string();
  }
  if (s.tls_cert.empty()) {
    if (!s.tls_key.empty()) return r.value_error("tls_key", "needs tls_cert");
    if (!s.tls_client_ca.empty()) return r.value_error("tls_client_ca", "needs tls_cert");
    return Status::Ok();
  }
  if (s.tls_key.empty()) return r.value_error("tls_cert", "needs tls_key (the private key file)");
  TlsRefusal refusal;
  if (!make_server_tls_context({s.tls_cert, s.tls_key, s.tls_client_ca}, &refusal)) {
    return r.value_error(refusal.key, refusal.message);
  }
  return Status::Ok();
}

Status parse_server(const toml::table& t, const std::string& file, int table_line,
                    const fs::path& base, ServerOptions& s) {
  TableReader r{t, file, "[server]"};
  DFD_RETURN_IF_ERROR(r.unknown_keys(
      {"id", "zone", "listen", "threads", "state_dir", "shutdown_grace_ms", "log_level",
       "public_url", "max_body_bytes", "max_head_bytes", "header_timeout_ms", "body_timeout_ms",
       "keepalive_timeout_ms", "max_connections", "max_connections_per_address", "admin_token_file",
       "tls_cert", "tls_key", "tls_client_ca"}));
  if (!t.get("id")) {
    return Status::InvalidArgument(at(file, table_line) + "[server]: missing required key 'id'");
  }
  DFD_RETURN_IF_ERROR(r.str("id", s.id));
  if (s.id.empty()) return r.value_error("id", "must not be empty");
  for (char c : s.id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return r.value_error("id", "'" + s.id + "' may contain only letters, digits, '-', '_', '.'");
    }
  }
  DFD_RETURN_IF_ERROR(r.str("zone", s.zone));
  DFD_RETURN_IF_ERROR(r.str("listen", s.listen));
  if (!valid_listen(s.listen)) {
    return r.value_error("listen", "'" + s.listen +
                                       "' is not HOST:PORT with an IPv4 address or localhost as "
                                       "HOST (e.g. 127.0.0.1:9200, 0.0.0.0:9200)");
  }
  DFD_RETURN_IF_ERROR(r.integer("threads", s.threads, 1, 256));
  DFD_RETURN_IF_ERROR(r.str("state_dir", s.state_dir));
  DFD_RETURN_IF_ERROR(r.integer("shutdown_grace_ms", s.shutdown_grace_ms, 0, 3600 * 1000));
  std::string level;
  DFD_RETURN_IF_ERROR(r.str("log_level", level));
  if (!level.empty()) {
    auto l = parse_log_level(level);
    if (!l.ok()) return r.value_error("log_level", l.status().message());
    s.log_level = *l;
  }
  DFD_RETURN_IF_ERROR(r.str("public_url", s.public_url));
  if (!s.public_url.empty() && s.public_url.rfind("http://", 0) != 0 &&
      s.public_url.rfind("https://", 0) != 0) {
    return r.value_error("public_url",
                         "'" + s.public_url + "' must start with http:// or https://");
  }
  while (!s.public_url.empty() && s.public_url.back() == '/') s.public_url.pop_back();
  DFD_RETURN_IF_ERROR(r.integer("max_body_bytes", s.max_body_bytes, 1024, 64 << 20));
  DFD_RETURN_IF_ERROR(r.integer("max_head_bytes", s.max_head_bytes, 1024, 1 << 20));
  DFD_RETURN_IF_ERROR(r.integer("header_timeout_ms", s.header_timeout_ms, 100, 3600 * 1000));
  DFD_RETURN_IF_ERROR(r.integer("body_timeout_ms", s.body_timeout_ms, 100, 3600 * 1000));
  DFD_RETURN_IF_ERROR(r.integer("keepalive_timeout_ms", s.keepalive_timeout_ms, 100, 3600 * 1000));
  DFD_RETURN_IF_ERROR(r.integer("max_connections", s.max_connections, 1, 1 << 20));
  DFD_RETURN_IF_ERROR(
      r.integer("max_connections_per_address", s.max_connections_per_address, 1, 1 << 20));
  DFD_RETURN_IF_ERROR(r.str("admin_token_file", s.admin_token_file));
  if (!s.admin_token_file.empty()) {
    std::ifstream in(s.admin_token_file, std::ios::binary);
    if (!in) {
      return r.value_error("admin_token_file",
                           "cannot read '" + s.admin_token_file + "': " + std::strerror(errno));
    }
    std::ostringstream token;
    token << in.rdbuf();
    s.admin_token = token.str();
    while (!s.admin_token.empty() && std::isspace(static_cast<unsigned char>(s.admin_token.back())))
      s.admin_token.pop_back();
    // Presented as `Authorization: Bearer <secret>`: it must be a token the bearer rule accepts.
    if (s.admin_token.size() < 16 || !wire::is_b64token(s.admin_token)) {
      return r.value_error("admin_token_file",
                           "'" + s.admin_token_file +
                               "' must hold one secret of 16 to 4096 characters from A-Z a-z 0-9 - "
                               ". _ ~ + / (then optional '='; an RFC 6750 bearer token)");
    }
  }
  DFD_RETURN_IF_ERROR(parse_server_tls(r, base, s));
  if (s.state_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    s.state_dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/dfd-" + s.id;
  }
  return Status::Ok();
}

Status parse_events(const toml::table& t, const std::string& file, EventsOptions& e) {
  TableReader r{t, file, "[events]"};
  DFD_RETURN_IF_ERROR(
      r.unknown_keys({"signing_key", "trusted_keys", "max_age_s", "allow_unsigned"}));
  e.line = line_of(t);
  DFD_RETURN_IF_ERROR(r.str("signing_key", e.signing_key));
  DFD_RETURN_IF_ERROR(r.str("trusted_keys", e.trusted_keys));
  DFD_RETURN_IF_ERROR(r.integer("max_age_s", e.max_age_s, 10, 7 * 24 * 3600));
  DFD_RETURN_IF_ERROR(r.boolean("allow_unsigned", e.allow_unsigned));
  e.signing_key_line = r.line_of_key("signing_key");
  e.trusted_keys_line = r.line_of_key("trusted_keys");
  e.max_age_s_line = r.line_of_key("max_age_s");
  e.allow_unsigned_line = r.line_of_key("allow_unsigned");
  if (e.keys_configured() && e.allow_unsigned) {
    return r.value_error("allow_unsigned",
                         "true together with signing keys: with keys every event is checked; "
                         "remove allow_unsigned or the keys");
  }
  return Status::Ok();
}

}  // namespace

Result<LogLevel> parse_log_level(std::string_view name) {
  static const std::pair<const char*, LogLevel> kLevels[] = {
      {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},   {"error", LogLevel::kError}, {"off", LogLevel::kOff}};
  for (const auto& [n, l] : kLevels) {
    if (name == n) return l;
  }
  return Status::InvalidArgument("unknown log level '" + std::string(name) +
                                 "' (trace|debug|info|warn|error|off)");
}

std::string toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "nothing";
  }
}

Status expand_env(toml::table& table, const std::string& file) {
  return expand_table(table, file, "");
}

Result<HostConfig> parse_host_config(std::string_view text, const std::string& file) {
  return guard("config " + file, [&]() -> Result<HostConfig> {
    auto root_ptr = std::make_shared<toml::table>();
    toml::table& root = *root_ptr;
    try {
      root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      return Status::InvalidArgument(file + ":" + std::to_string(b.line) + ":" +
                                     std::to_string(b.column) +
                                     ": syntax error: " + std::string(e.description()));
    }
    DFD_RETURN_IF_ERROR(expand_env(root, file));

    HostConfig cfg;
    cfg.file = file;
    cfg.root = root_ptr;
    TableReader top{root, file, "top level"};
    DFD_RETURN_IF_ERROR(top.unknown_keys({"plugin_path", "server", "content", "events", "plugin"}));

    fs::path base = fs::absolute(fs::path(file)).parent_path();
    if (const toml::node* pp = root.get("plugin_path")) {
      auto bad = [&]() {
        return Status::InvalidArgument(at(file, line_of(*pp)) +
                                       "key 'plugin_path': expected an array of strings, got " +
                                       toml_type_name(*pp));
      };
      if (pp->is_string()) {
        cfg.plugin_path.push_back((base / pp->as_string()->get()).lexically_normal().string());
      } else if (const auto* arr = pp->as_array()) {
        for (const auto& e : *arr) {
          if (!e.is_string()) {
            return Status::InvalidArgument(at(file, line_of(e)) +
                                           "key 'plugin_path': expected strings, got " +
                                           toml_type_name(e));
          }
          cfg.plugin_path.push_back((base / e.as_string()->get()).lexically_normal().string());
        }
      } else {
        return bad();
      }
    }

    const toml::node* server = root.get("server");
    if (!server) return Status::InvalidArgument(file + ":1: missing required table [server]");
    if (!server->is_table()) {
      return Status::InvalidArgument(at(file, line_of(*server)) +
                                     "key 'server': expected a table, got " +
                                     toml_type_name(*server));
    }
    DFD_RETURN_IF_ERROR(
        parse_server(*server->as_table(), file, line_of(*server), base, cfg.server));

    if (const toml::node* content = root.get("content")) {
      if (!content->is_table()) {
        return Status::InvalidArgument(at(file, line_of(*content)) +
                                       "key 'content': expected a table, got " +
                                       toml_type_name(*content));
      }
      cfg.content = content->as_table();
    }

    if (const toml::node* events = root.get("events")) {
      if (!events->is_table()) {
        return Status::InvalidArgument(at(file, line_of(*events)) +
                                       "key 'events': expected a table, got " +
                                       toml_type_name(*events));
      }
      DFD_RETURN_IF_ERROR(parse_events(*events->as_table(), file, cfg.events));
    }

    if (const toml::node* plugins = root.get("plugin")) {
      const auto* arr = plugins->as_array();
      if (!arr || !arr->is_array_of_tables()) {
        return Status::InvalidArgument(at(file, line_of(*plugins)) +
                                       "key 'plugin': expected [[plugin]] tables, got " +
                                       toml_type_name(*plugins));
      }
      std::size_t index = 0;
      for (const auto& e : *arr) {
        ++index;
        const toml::table& t = *e.as_table();
        PluginEntry pe;
        pe.line = line_of(t);
        const toml::node* name = t.get("name");
        if (!name) {
          return Status::InvalidArgument(at(file, pe.line) + "[[plugin]] #" +
                                         std::to_string(index) + ": missing required key 'name'");
        }
        if (!name->is_string()) {
          return Status::InvalidArgument(
              at(file, line_of(*name)) + "[[plugin]] #" + std::to_string(index) +
              " key 'name': expected a string, got " + toml_type_name(*name));
        }
        pe.name = name->as_string()->get();
        pe.table = std::shared_ptr<const toml::table>(root_ptr, &t);
        cfg.plugins.push_back(std::move(pe));
      }
    }
    return cfg;
  });
}

Result<HostConfig> load_host_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(path + ": cannot read config file: " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_host_config(ss.str(), path);
}

// ---------------------------------------------------------------------------------------------
TomlConfig::TomlConfig(std::string file, PluginEntry entry)
    : file_(std::move(file)), entry_(std::move(entry)) {}

std::string TomlConfig::source() const {
  return file_ + " [[plugin]] " + entry_.name;
}

std::vector<std::string> TomlConfig::keys() const {
  std::vector<std::string> out;
  for (auto&& [k, v] : *entry_.table) {
    if (k.str() != "name") out.emplace_back(k.str());
  }
  return out;
}

const toml::node* TomlConfig::find(std::string_view key) const noexcept {
  if (key == "name") return nullptr;
  return entry_.table->get(key);
}

bool TomlConfig::has(std::string_view key) const noexcept {
  return find(key) != nullptr;
}

Status TomlConfig::error(std::string_view key, std::string_view what) const {
  const toml::node* n = find(key);
  int line = n ? line_of(*n) : entry_.line;
  return Status::InvalidArgument(at(file_, line) + "[[plugin]] " + entry_.name + ": key '" +
                                 std::string(key) + "': " + std::string(what));
}

Status TomlConfig::missing(std::string_view key) const {
  return Status::NotFound(at(file_, entry_.line) + "[[plugin]] " + entry_.name + ": missing key '" +
                          std::string(key) + "'");
}

Status TomlConfig::wrong_type(std::string_view key, const char* expected) const {
  return error(key, std::string("expected ") + expected + ", got " + toml_type_name(*find(key)));
}

Result<std::string> TomlConfig::get_string(std::string_view key) const noexcept {
  return guard("config", [&]() -> Result<std::string> {
    const toml::node* n = find(key);
    if (!n) return missing(key);
    if (!n->is_string()) return wrong_type(key, "a string");
    return n->as_string()->get();
  });
}

Result<std::int64_t> TomlConfig::get_int(std::string_view key) const noexcept {
  return guard("config", [&]() -> Result<std::int64_t> {
    const toml::node* n = find(key);
    if (!n) return missing(key);
    if (!n->is_integer()) return wrong_type(key, "an integer");
    return n->as_integer()->get();
  });
}

Result<double> TomlConfig::get_double(std::string_view key) const noexcept {
  return guard("config", [&]() -> Result<double> {
    const toml::node* n = find(key);
    if (!n) return missing(key);
    if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
    if (!n->is_floating_point()) return wrong_type(key, "a number");
    return n->as_floating_point()->get();
  });
}

Result<bool> TomlConfig::get_bool(std::string_view key) const noexcept {
  return guard("config", [&]() -> Result<bool> {
    const toml::node* n = find(key);
    if (!n) return missing(key);
    if (!n->is_boolean()) return wrong_type(key, "a boolean");
    return n->as_boolean()->get();
  });
}

Result<std::vector<std::string>> TomlConfig::get_string_list(std::string_view key) const noexcept {
  return guard("config", [&]() -> Result<std::vector<std::string>> {
    const toml::node* n = find(key);
    if (!n) return missing(key);
    const auto* arr = n->as_array();
    if (!arr) return wrong_type(key, "an array of strings");
    std::vector<std::string> out;
    for (const auto& e : *arr) {
      if (!e.is_string()) {
        return error(key, "expected an array of strings, found " + toml_type_name(e));
      }
      out.push_back(e.as_string()->get());
    }
    return out;
  });
}

Status TomlConfig::allow_only(std::initializer_list<std::string_view> allowed) const {
  std::vector<std::string> names;
  for (auto a : allowed) names.emplace_back(a);
  // Report the first offending key in file order.
  const toml::node* worst = nullptr;
  std::string worst_key;
  for (auto&& [k, v] : *entry_.table) {
    std::string key(k.str());
    if (key == "name") continue;
    bool ok = false;
    for (const auto& a : names) ok = ok || a == key;
    if (!ok && (!worst || line_of(v) < line_of(*worst))) {
      worst = &v;
      worst_key = key;
    }
  }
  if (!worst) return Status::Ok();
  std::string hint =
      names.empty() ? std::string(" (this plugin takes no keys)") : did_you_mean(worst_key, names);
  return Status::InvalidArgument(at(file_, line_of(*worst)) + "[[plugin]] " + entry_.name +
                                 ": unknown key '" + worst_key + "'" + hint);
}

}  // namespace dfd::host
