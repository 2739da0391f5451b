// dfd SDK — HostServices: everything a plugin gets from the host.
//
// A plugin never touches process globals (spdlog's registry, signal handlers, a global clock):
// the host injects a logger tagged with the plugin's name, the plugin's own config table, a metrics
// registry, a clock, the server's identity, an HTTP route table and lookup of other plugins.
//
// Lifetime: the HostServices reference passed to a plugin's create() stays valid until after the
// plugin is destroyed. Every object reachable from it (Logger, Config, Metrics, counters, ...)
// lives at least as long.
//
// Thread-safety: every method of every class in this header is safe to call from any thread,
// unless its comment says otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dfd/status.hpp"
#include "dfd/wire/bearer.hpp"

namespace dfd {

class Plugin;
enum class PluginKind : std::uint32_t;

// ---------------------------------------------------------------------------------------------
// Logging
enum class LogLevel : int { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4, kOff = 6 };

// A sink that prefixes every line with the plugin's name. Never log secrets: passwords, tokens,
// key material (a token's hash prefix is fine).
class Logger {
 public:
  virtual ~Logger() = default;
  // True when a message at `level` would be written; check before building expensive messages.
  virtual bool enabled(LogLevel level) const noexcept = 0;
  // Writes one line. Thread-safe. Never throws.
  virtual void log(LogLevel level, std::string_view message) noexcept = 0;

  void trace(std::string_view m) noexcept { log(LogLevel::kTrace, m); }
  void debug(std::string_view m) noexcept { log(LogLevel::kDebug, m); }
  void info(std::string_view m) noexcept { log(LogLevel::kInfo, m); }
  void warn(std::string_view m) noexcept { log(LogLevel::kWarn, m); }
  void error(std::string_view m) noexcept { log(LogLevel::kError, m); }
};

// ---------------------------------------------------------------------------------------------
// Configuration: the plugin's own [[plugin]] table (minus `name`), read-only.
//
// Every error Status names the file, the line and the key, e.g.
//   "configs/fs.toml:12: [[plugin]] storage-fs: key 'chunk_size': expected an integer, got a
//   string"
// so a plugin can return it to the host unchanged.
class Config {
 public:
  virtual ~Config() = default;

  // "FILE [[plugin]] NAME" — for messages.
  virtual std::string source() const = 0;
  // Keys present in the table (excluding `name`).
  virtual std::vector<std::string> keys() const = 0;
  virtual bool has(std::string_view key) const noexcept = 0;

  // Typed getters: kNotFound when absent, kInvalidArgument (with file:line:key) on a wrong type.
  virtual Result<std::string> get_string(std::string_view key) const noexcept = 0;
  virtual Result<std::int64_t> get_int(std::string_view key) const noexcept = 0;
  virtual Result<double> get_double(std::string_view key) const noexcept = 0;
  virtual Result<bool> get_bool(std::string_view key) const noexcept = 0;
  virtual Result<std::vector<std::string>> get_string_list(std::string_view key) const noexcept = 0;

  // A Status of kInvalidArgument naming file, line (of `key`, or of the table) and key.
  virtual Status error(std::string_view key, std::string_view what) const = 0;

  // kInvalidArgument naming the first key not in `allowed` (with a "did you mean" suggestion).
  virtual Status allow_only(std::initializer_list<std::string_view> allowed) const = 0;

  // Convenience: the value, or `fallback` when absent; a wrong type is still an error.
  Result<std::string> string_or(std::string_view key, std::string fallback) const noexcept {
    if (!has(key)) return fallback;
    return get_string(key);
  }
  Result<std::int64_t> int_or(std::string_view key, std::int64_t fallback) const noexcept {
    if (!has(key)) return fallback;
    return get_int(key);
  }
  Result<bool> bool_or(std::string_view key, bool fallback) const noexcept {
    if (!has(key)) return fallback;
    return get_bool(key);
  }
  Result<double> double_or(std::string_view key, double fallback) const noexcept {
    if (!has(key)) return fallback;
    return get_double(key);
  }
};

// ---------------------------------------------------------------------------------------------
// Metrics, exposed by the host at GET /metrics in Prometheus text format.
// Names follow Prometheus rules ("dfd_storage_files"); the host prefixes nothing.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  virtual ~Counter() = default;
  virtual void add(double v = 1.0) noexcept = 0;  // v >= 0
  virtual double value() const noexcept = 0;
};

class Gauge {
 public:
  virtual ~Gauge() = default;
  virtual void set(double v) noexcept = 0;
  virtual void add(double v) noexcept = 0;  // may be negative
  virtual double value() const noexcept = 0;
};

class Histogram {
 public:
  virtual ~Histogram() = default;
  virtual void observe(double v) noexcept = 0;
};

// Returned references live as long as the host; the same (name, labels) returns the same object.
class Metrics {
 public:
  virtual ~Metrics() = default;
  virtual Counter& counter(std::string_view name, std::string_view help,
                           const Labels& labels = {}) noexcept = 0;
  virtual Gauge& gauge(std::string_view name, std::string_view help,
                       const Labels& labels = {}) noexcept = 0;
  // `buckets` are upper bounds in increasing order (seconds for latencies).
  virtual Histogram& histogram(std::string_view name, std::string_view help,
                               const std::vector<double>& buckets,
                               const Labels& labels = {}) noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// Clock: injected so tests can move time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const noexcept = 0;
  virtual std::chrono::steady_clock::time_point steady_now() const noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// HTTP routes: how an info-kind plugin serves its API without seeing Pistache.
// Handlers run on the host's HTTP worker threads, several at once: they must be thread-safe.
// A handler may block briefly (a broker confirm); it must not block for long.
struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // "/v1/files/7" (no query)
  std::map<std::string, std::string> params;   // from the route pattern: {"id": "7"}
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string peer;  // remote address, "127.0.0.1"

  // The header's value or "" (name in lower case).
  std::string header(std::string_view lower_name) const {
    auto it = headers.find(std::string(lower_name));
    return it == headers.end() ? std::string() : it->second;
  }
  // The bearer token of the Authorization header, or "" (no header, another scheme, or not one
  // RFC 6750 b64token of at most 4 KiB: the rule of dfd/wire/bearer.hpp, shared with the data
  // plane).
  std::string bearer() const { return std::string(wire::bearer_token(header("authorization"))); }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers ("Retry-After")
  std::string body;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

class HttpRoutes {
 public:
  virtual ~HttpRoutes() = default;
  // Registers `handler` for `method` and a pattern with ":name" segments ("/v1/files/:id").
  // Call only from Plugin::start() (main thread). kAlreadyExists on a duplicate route.
  virtual Status add(std::string_view method, std::string_view pattern, HttpHandler handler) = 0;
};

// Helper for handlers: the JSON error body every dfd API uses:
// {"error": {"code": "...", "message": "..."}}. `code` and `message` are JSON-escaped here.
inline void set_json_error(HttpResponse& r, int status, std::string_view code,
                           std::string_view message) {
  auto esc = [](std::string_view s) {
    std::string o;
    for (char c : s) {
      switch (c) {
        case '"':
          o += "\\\"";
          break;
        case '\\':
          o += "\\\\";
          break;
        case '\n':
          o += "\\n";
          break;
        case '\r':
          o += "\\r";
          break;
        case '\t':
          o += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            static const char* hex = "0123456789abcdef";
            o += "\\u00";
            o += hex[(c >> 4) & 0xf];
            o += hex[c & 0xf];
          } else {
            o += c;
          }
      }
    }
    return o;
  };
  r.status = status;
  r.content_type = "application/json";
  r.body = "{\"error\":{\"code\":\"" + esc(code) + "\",\"message\":\"" + esc(message) + "\"}}";
}

// ---------------------------------------------------------------------------------------------
// The server this host is: from the config's [server] table.
struct ServerIdentity {
  std::string id;          // "fs-a1"
  std::string zone;        // "zone-a"
  std::string public_url;  // URL clients use for /v1/content ("http://127.0.0.1:9101")
  std::string state_dir;   // a private writable directory for this server's state files
};

// ---------------------------------------------------------------------------------------------
class HostServices {
 public:
  virtual ~HostServices() = default;

  virtual Logger& logger() noexcept = 0;              // tagged with this plugin's name
  virtual const Config& config() const noexcept = 0;  // this plugin's own table
  virtual Metrics& metrics() noexcept = 0;
  virtual const Clock& clock() const noexcept = 0;
  virtual const ServerIdentity& server() const noexcept = 0;
  virtual HttpRoutes& http() noexcept = 0;

  // Another loaded plugin of `kind`: the one named `name`, or (empty name) the first listed of
  // that kind; nullptr if none. Call from start() or later (after every plugin is created).
  // The returned pointer stays valid until this plugin's stop() returned.
  virtual Plugin* find_plugin(PluginKind kind, std::string_view name = {}) noexcept = 0;

  // Typed lookup: T is one of the kind interfaces (Storage, Auth, Broker, Digest, Info).
  template <typename T>
  T* find(std::string_view name = {}) noexcept {
    return static_cast<T*>(find_plugin(T::kKind, name));
  }
};

}  // namespace dfd
