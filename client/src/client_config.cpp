#include "client_config.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "credentials.hpp"
#include "units.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {

constexpr const char* kKeys =
    "server, zone, connections, per_server, limit_rate, per_server_rate, timeout, cacert, cert, "
    "key, output_dir, progress";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

// Reads the values of one parsed file; every error is "FILE:LINE: key 'K': WHAT".
struct Reader {
  const std::string& file;
  std::string dir;  // the file's folder, for relative paths

  [[noreturn]] void fail(const toml::node& n, std::string_view key, const std::string& what) const {
    throw CliError(exit_code::kUsage, file + ":" + std::to_string(n.source().begin.line) +
                                          ": key '" + std::string(key) + "': " + what);
  }
  std::string text(const toml::node& n, std::string_view key) const {
    if (!n.is_string()) fail(n, key, std::string("expected a string, got ") + type_name(n));
    std::string s = n.as_string()->get();
    if (s.empty()) fail(n, key, "must not be empty");
    if (!is_printable_text(s)) fail(n, key, "control characters are not allowed");
    return s;
  }
  std::string path(const toml::node& n, std::string_view key) const {
    std::string p = text(n, key);
    if (p == "~" || p.rfind("~/", 0) == 0) {
      std::string home = env("HOME");
      if (home.empty()) fail(n, key, "'~' but HOME is not set");
      return home + p.substr(1);
    }
    if (p.front() == '/' || dir.empty()) return p;
    return dir + "/" + p;
  }
  double number(const toml::node& n, std::string_view key, double min, double max) const {
    double x = 0;
    if (n.is_integer()) {
      x = static_cast<double>(n.as_integer()->get());
    } else if (n.is_floating_point()) {
      x = n.as_floating_point()->get();
    } else {
      fail(n, key, std::string("expected a number, got ") + type_name(n));
    }
    if (!std::isfinite(x) || x < min || x > max) {
      std::ostringstream os;
      os << x << " is out of range [" << min << ", " << max << "]";
      fail(n, key, os.str());
    }
    return x;
  }
  std::size_t count(const toml::node& n, std::string_view key, long min, long max) const {
    if (!n.is_integer()) fail(n, key, std::string("expected an integer, got ") + type_name(n));
    auto x = n.as_integer()->get();
    if (x < min || x > max) {
      fail(n, key,
           std::to_string(x) + " is out of range [" + std::to_string(min) + ", " +
               std::to_string(max) + "]");
    }
    return static_cast<std::size_t>(x);
  }
  // A rate: "20M", "500K", "1.5G", "1048576" (K/M/G = powers of 1024) or a number of bytes/s.
  double rate(const toml::node& n, std::string_view key) const {
    if (n.is_string()) {
      auto r = parse_rate(n.as_string()->get());
      if (!r)
        fail(n, key,
             "'" + printable(n.as_string()->get()) + "' is not a rate (" + kRateSyntax + ")");
      return *r;
    }
    if (n.is_integer() || n.is_floating_point()) return number(n, key, 0, kMaxRate);
    fail(n, key, std::string("expected a rate like \"20M\" or a number, got ") + type_name(n));
  }
  bool boolean(const toml::node& n, std::string_view key) const {
    if (!n.is_boolean()) fail(n, key, std::string("expected true or false, got ") + type_name(n));
    return n.as_boolean()->get();
  }
};

// "FILE:LINE: key 'K'" for messages about a value used later (a file that cannot be read).
std::string where(const ClientConfig& c, std::string_view key) {
  auto it = c.lines.find(std::string(key));
  int line = it == c.lines.end() ? 1 : it->second;
  return c.file + ":" + std::to_string(line) + ": key '" + std::string(key) + "'";
}

void check_readable(const ClientConfig& c, std::string_view key, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0)
    throw CliError(exit_code::kUsage,
                   where(c, key) + ": " + path + ": cannot read: " + std::strerror(errno));
}

}  // namespace

std::string client_config_path() {
  if (std::string p = env("DFD_CONFIG"); !p.empty()) return p;
  if (std::string x = env("XDG_CONFIG_HOME"); !x.empty()) return x + "/dfd/config.toml";
  if (std::string h = env("HOME"); !h.empty()) return h + "/.config/dfd/config.toml";
  return "";
}

ClientConfig parse_client_config(std::string_view text, const std::string& file) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw CliError(exit_code::kUsage, file + ":" + std::to_string(b.line) + ":" +
                                          std::to_string(b.column) +
                                          ": syntax error: " + std::string(e.description()));
  }
  ClientConfig c;
  c.file = file;
  auto slash = file.rfind('/');
  Reader r{file, slash == std::string::npos ? std::string(".") : file.substr(0, slash)};
  if (slash == 0) r.dir = "/";
  for (auto&& [k, v] : root) {
    std::string key(k.str());
    c.lines[key] = static_cast<int>(v.source().begin.line);
    if (key == "server") {
      c.server = r.text(v, key);
    } else if (key == "zone") {
      c.zone = r.text(v, key);
    } else if (key == "connections") {
      c.connections = r.count(v, key, 1, 256);
    } else if (key == "per_server") {
      c.per_server = r.count(v, key, 1, 64);
    } else if (key == "limit_rate") {
      c.limit_rate = r.rate(v, key);
    } else if (key == "per_server_rate") {
      c.per_server_rate = r.rate(v, key);
    } else if (key == "timeout") {
      c.timeout_s = r.number(v, key, 0.1, 86400);  // as --timeout
    } else if (key == "cacert") {
      c.cacert = r.path(v, key);
    } else if (key == "cert") {
      c.cert = r.path(v, key);
    } else if (key == "key") {
      c.key = r.path(v, key);
    } else if (key == "output_dir") {
      c.output_dir = r.path(v, key);
    } else if (key == "progress") {
      c.progress = r.boolean(v, key);
    } else {
      r.fail(v, printable(key), std::string("unknown key (known: ") + kKeys + ")");
    }
  }
  if (c.key && !c.cert) r.fail(*root.get("key"), "key", "needs cert (the client certificate)");
  return c;
}

ClientConfig load_client_config() {
  std::string path = client_config_path();
  if (path.empty()) return {};
  std::ifstream f(path);
  if (!f) {
    int e = errno;
    bool named = !env("DFD_CONFIG").empty();
    if (!named && e == ENOENT) return {};
    throw CliError(exit_code::kUsage, std::string(named ? "DFD_CONFIG " : "config file ") + path +
                                          ": cannot read: " + std::strerror(e));
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_client_config(ss.str(), path);
}

void apply_client_config(const ClientConfig& c,
                         const std::function<bool(std::string_view)>& on_command_line,
                         GlobalOptions& g, GetOptions& go, TlsSettings& tls) {
  auto unset = [&](std::string_view option, const char* env_var) {
    return !on_command_line(option) && (env_var == nullptr || env(env_var).empty());
  };
  if (c.server && unset("--server", "DFD_SERVER")) g.server = *c.server;
  if (c.timeout_s && unset("--timeout", nullptr)) g.timeout_s = *c.timeout_s;
  if (c.cacert && unset("--cacert", "DFD_CA_BUNDLE")) {
    check_readable(c, "cacert", *c.cacert);
    tls.ca_file = *c.cacert;
  }
  if (c.cert && unset("--cert", "DFD_CLIENT_CERT")) {
    check_readable(c, "cert", *c.cert);
    tls.cert_file = *c.cert;
    if (c.key && unset("--key", "DFD_CLIENT_KEY")) {
      check_readable(c, "key", *c.key);
      tls.key_file = *c.key;
    }
  }
  if (c.zone && unset("--zone", nullptr)) go.zone = *c.zone;
  if (c.connections && unset("--connections", nullptr)) go.connections = *c.connections;
  if (c.per_server && unset("--per-server", nullptr)) go.per_server = *c.per_server;
  if (c.limit_rate && unset("--limit-rate", nullptr)) go.limit_rate = *c.limit_rate;
  if (c.per_server_rate && unset("--per-server-rate", nullptr))
    go.per_server_rate = *c.per_server_rate;
  if (c.output_dir && unset("--dir", nullptr) && unset("--output", nullptr))
    go.output_dir = *c.output_dir;
  if (c.progress && !*c.progress) go.no_progress = true;
}

}  // namespace dfd::client
