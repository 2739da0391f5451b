#include "fake_host.hpp"

#include <boost/dll/shared_library.hpp>
#include <sstream>

#include "harness.hpp"

namespace dfd::test {

namespace {
class MapConfig : public Config {
 public:
  explicit MapConfig(std::map<std::string, ConfigValue> m, std::string name)
      : m_(std::move(m)), name_(std::move(name)) {}
  std::string source() const override { return "test.toml [[plugin]] " + name_; }
  std::vector<std::string> keys() const override {
    std::vector<std::string> k;
    for (auto& [key, v] : m_) k.push_back(key);
    return k;
  }
  bool has(std::string_view key) const noexcept override { return m_.count(std::string(key)) > 0; }
  template <typename T>
  Result<T> get(std::string_view key, const char* want) const noexcept {
    auto it = m_.find(std::string(key));
    if (it == m_.end())
      return Status::NotFound(source() + ": key '" + std::string(key) + "' is missing");
    if (auto* p = std::get_if<T>(&it->second)) return *p;
    return error(key, std::string("expected ") + want);
  }
  Result<std::string> get_string(std::string_view k) const noexcept override {
    return get<std::string>(k, "a string");
  }
  Result<std::int64_t> get_int(std::string_view k) const noexcept override {
    return get<std::int64_t>(k, "an integer");
  }
  Result<double> get_double(std::string_view k) const noexcept override {
    auto it = m_.find(std::string(k));
    if (it != m_.end()) {
      if (auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*i);
    }
    return get<double>(k, "a number");
  }
  Result<bool> get_bool(std::string_view k) const noexcept override {
    return get<bool>(k, "a boolean");
  }
  Result<std::vector<std::string>> get_string_list(std::string_view k) const noexcept override {
    return get<std::vector<std::string>>(k, "an array of strings");
  }
  Status error(std::string_view key, std::string_view what) const override {
    return Status::InvalidArgument("test.toml:1: [[plugin]] " + name_ + ": key '" +
                                   std::string(key) + "': " + std::string(what));
  }
  Status allow_only(std::initializer_list<std::string_view> allowed) const override {
    for (auto& [k, v] : m_) {
      bool ok = false;
      for (auto a : allowed) ok = ok || a == k;
      if (!ok) return error(k, "unknown key");
    }
    return Status::Ok();
  }

 private:
  std::map<std::string, ConfigValue> m_;
  std::string name_;
};

class StringLogger : public Logger {
 public:
  bool enabled(LogLevel) const noexcept override { return true; }
  void log(LogLevel level, std::string_view m) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    text += "[" + std::to_string(static_cast<int>(level)) + "] ";
    text.append(m);
    text += "\n";
  }
  mutable std::mutex mu;
  std::string text;
};

class SimpleCounter : public Counter, public Gauge, public Histogram {
 public:
  void add(double v) noexcept override {
    double cur = value_.load();
    while (!value_.compare_exchange_weak(cur, cur + v)) {
    }
  }
  void set(double v) noexcept override { value_.store(v); }
  double value() const noexcept override { return value_.load(); }
  void observe(double v) noexcept override { add(v); }

 private:
  std::atomic<double> value_{0};
};

class MapMetrics : public Metrics {
 public:
  SimpleCounter& get(std::string_view name, const Labels& labels) {
    std::lock_guard<std::mutex> g(mu);
    auto& p = m[key(name, labels)];
    if (!p) p = std::make_unique<SimpleCounter>();
    return *p;
  }
  static std::string key(std::string_view name, const Labels& labels) {
    std::string k(name);
    for (auto& [a, b] : labels) k += "|" + a + "=" + b;
    return k;
  }
  Counter& counter(std::string_view n, std::string_view, const Labels& l) noexcept override {
    return get(n, l);
  }
  Gauge& gauge(std::string_view n, std::string_view, const Labels& l) noexcept override {
    return get(n, l);
  }
  Histogram& histogram(std::string_view n, std::string_view, const std::vector<double>&,
                       const Labels& l) noexcept override {
    return get(n, l);
  }
  std::mutex mu;
  std::map<std::string, std::unique_ptr<SimpleCounter>> m;
};

class ManualClock : public Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::now() + offset();
  }
  std::chrono::steady_clock::time_point steady_now() const noexcept override {
    return std::chrono::steady_clock::now() + offset();
  }
  std::chrono::milliseconds offset() const { return std::chrono::milliseconds(off_ms.load()); }
  std::atomic<long long> off_ms{0};
};

class RouteTable : public HttpRoutes {
 public:
  Status add(std::string_view method, std::string_view pattern, HttpHandler h) override {
    std::string k = std::string(method) + " " + std::string(pattern);
    if (routes.count(k)) return Status::AlreadyExists("route " + k);
    routes[k] = std::move(h);
    return Status::Ok();
  }
  std::map<std::string, HttpHandler> routes;
};

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  std::stringstream ss(p);
  std::string seg;
  while (std::getline(ss, seg, '/'))
    if (!seg.empty()) out.push_back(seg);
  return out;
}
}  // namespace

struct FakeHost::Impl {
  MapConfig config;
  StringLogger log;
  MapMetrics metrics;
  ManualClock clock;
  RouteTable routes;
};

FakeHost::FakeHost(std::map<std::string, ConfigValue> config, std::string plugin_name)
    : impl_(new Impl{MapConfig(std::move(config), plugin_name), {}, {}, {}, {}}) {}
FakeHost::~FakeHost() = default;
Logger& FakeHost::logger() noexcept {
  return impl_->log;
}
const Config& FakeHost::config() const noexcept {
  return impl_->config;
}
Metrics& FakeHost::metrics() noexcept {
  return impl_->metrics;
}
const Clock& FakeHost::clock() const noexcept {
  return impl_->clock;
}
HttpRoutes& FakeHost::http() noexcept {
  return impl_->routes;
}
Plugin* FakeHost::find_plugin(PluginKind kind, std::string_view name) noexcept {
  for (auto& e : plugins_) {
    if (e.kind == kind && (name.empty() || e.name == name)) return e.plugin;
  }
  return nullptr;
}
void FakeHost::advance(std::chrono::milliseconds d) {
  impl_->clock.off_ms += d.count();
}
std::string FakeHost::log_text() const {
  std::lock_guard<std::mutex> g(impl_->log.mu);
  return impl_->log.text;
}
double FakeHost::metric(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> g(impl_->metrics.mu);
  auto it = impl_->metrics.m.find(MapMetrics::key(name, labels));
  return it == impl_->metrics.m.end() ? 0.0 : it->second->value();
}
std::map<std::string, HttpHandler>& FakeHost::routes() {
  return impl_->routes.routes;
}

HttpResponse FakeHost::call(const std::string& method, const std::string& path, HttpRequest req) {
  req.method = method;
  req.path = path;
  auto segs = split_path(path);
  for (auto& [key, handler] : impl_->routes.routes) {
    auto sp = key.find(' ');
    if (key.substr(0, sp) != method) continue;
    auto pat = split_path(key.substr(sp + 1));
    if (pat.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (size_t i = 0; i < pat.size() && match; ++i) {
      if (!pat[i].empty() && pat[i][0] == ':')
        params[pat[i].substr(1)] = segs[i];
      else
        match = pat[i] == segs[i];
    }
    if (!match) continue;
    req.params = params;
    HttpResponse r;
    handler(req, r);
    return r;
  }
  HttpResponse r;
  set_json_error(r, 404, "not_found", "no route");
  return r;
}

struct LoadedPlugin::Lib {
  boost::dll::shared_library lib;
};

LoadedPlugin::~LoadedPlugin() {
  if (instance_) {
    stop();
    desc_->destroy(instance_);
  }
}
LoadedPlugin::LoadedPlugin(LoadedPlugin&& o) noexcept {
  *this = std::move(o);
}
LoadedPlugin& LoadedPlugin::operator=(LoadedPlugin&& o) noexcept {
  std::swap(lib_, o.lib_);
  std::swap(desc_, o.desc_);
  std::swap(instance_, o.instance_);
  std::swap(stopped_, o.stopped_);
  return *this;
}
void LoadedPlugin::stop() {
  if (instance_ && !stopped_) {
    instance_->stop();
    stopped_ = true;
  }
}

Result<LoadedPlugin> load_plugin(const std::string& name, HostServices& host, bool start) {
  LoadedPlugin lp;
  lp.lib_ = std::make_shared<LoadedPlugin::Lib>();
  std::string path = plugin_dir() + "/libdfd-" + name + ".so";
  boost::dll::fs::error_code ec;
  lp.lib_->lib.load(path, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now, ec);
  if (ec) return Status::NotFound("cannot load " + path + ": " + ec.message());
  if (!lp.lib_->lib.has(kEntrySymbol)) return Status::NotFound(path + ": no entry");
  auto entry = lp.lib_->lib.get_alias<PluginEntryFn>(kEntrySymbol);
  lp.desc_ = entry();
  Status err;
  lp.instance_ = lp.desc_->create(host, &err);
  if (!lp.instance_) return err.ok() ? Status::Internal("create returned null") : err;
  if (start) {
    Status st = lp.instance_->start();
    if (!st.ok()) return st;
    lp.stopped_ = false;
  }
  return lp;
}

}  // namespace dfd::test
