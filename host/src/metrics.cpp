#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace dfd::host {
namespace {

enum Type { kCounter = 0, kGauge = 1, kHistogram = 2 };
const char* kTypeNames[] = {"counter", "gauge", "histogram"};

void atomic_add(std::atomic<double>& a, double v) noexcept {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    // Shortest of %.15g / %.17g that reads back as the same double.
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

std::string escape_label(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '\\')
      o += "\\\\";
    else if (c == '"')
      o += "\\\"";
    else if (c == '\n')
      o += "\\n";
    else
      o += c;
  }
  return o;
}

std::string escape_help(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '\\')
      o += "\\\\";
    else if (c == '\n')
      o += "\\n";
    else
      o += c;
  }
  return o;
}

std::string label_text(const Labels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string o = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) o += ",";
    first = false;
    o += k + "=\"" + escape_label(v) + "\"";
  }
  if (!extra.empty()) {
    if (!first) o += ",";
    o += extra;
  }
  return o + "}";
}

// Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; anything else becomes '_'.
std::string sanitize_name(std::string_view n) {
  std::string o(n);
  for (std::size_t i = 0; i < o.size(); ++i) {
    char c = o[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
              (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) o[i] = '_';
  }
  if (o.empty()) o = "_";
  return o;
}

class AtomicCounter final : public Counter {
 public:
  void add(double v) noexcept override {
    if (v > 0) atomic_add(v_, v);
  }
  double value() const noexcept override { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class AtomicGauge final : public Gauge {
 public:
  void set(double v) noexcept override { v_.store(v, std::memory_order_relaxed); }
  void add(double v) noexcept override { atomic_add(v_, v); }
  double value() const noexcept override { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class AtomicHistogram final : public Histogram {
 public:
  explicit AtomicHistogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double v) noexcept override {
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    atomic_add(sum_, v);
  }
  void render(std::ostream& os, const std::string& name, const Labels& labels) const {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += counts_[i].load(std::memory_order_relaxed);
      std::string le = i < bounds_.size() ? format_number(bounds_[i]) : "+Inf";
      os << name << "_bucket" << label_text(labels, "le=\"" + le + "\"") << ' ' << cumulative
         << '\n';
    }
    os << name << "_sum" << label_text(labels) << ' '
       << format_number(sum_.load(std::memory_order_relaxed)) << '\n';
    os << name << "_count" << label_text(labels) << ' ' << cumulative << '\n';
  }

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;
  std::atomic<double> sum_{0};
};

}  // namespace

struct MetricsRegistry::Series {
  Labels labels;
  std::unique_ptr<AtomicCounter> counter;
  std::unique_ptr<AtomicGauge> gauge;
  std::unique_ptr<AtomicHistogram> histogram;
};

struct MetricsRegistry::Family {
  std::string help;
  int type = kCounter;
  std::map<std::string, std::unique_ptr<Series>> series;  // key: rendered labels
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Series& MetricsRegistry::series(std::string_view name, std::string_view help,
                                                 int type, const std::vector<double>* buckets,
                                                 const Labels& labels) noexcept {
  // A metric registered twice with different types keeps the first type; the second caller gets
  // a series under a suffixed name so nothing crashes and the clash is visible in /metrics.
  try {
    std::lock_guard<std::mutex> lock(mu_);
    std::string fname = sanitize_name(name);
    auto it = families_.find(fname);
    if (it != families_.end() && it->second->type != type) {
      fname += std::string("_") + kTypeNames[type];
      it = families_.find(fname);
    }
    if (it == families_.end()) {
      auto f = std::make_unique<Family>();
      f->help = std::string(help);
      f->type = type;
      it = families_.emplace(fname, std::move(f)).first;
    }
    Labels clean;
    for (const auto& [k, v] : labels) clean.emplace_back(sanitize_name(k), v);
    std::string key = label_text(clean);
    auto& slot = it->second->series[key];
    if (!slot) {
      slot = std::make_unique<Series>();
      slot->labels = clean;
      if (type == kCounter) slot->counter = std::make_unique<AtomicCounter>();
      if (type == kGauge) slot->gauge = std::make_unique<AtomicGauge>();
      if (type == kHistogram) {
        std::vector<double> b = buckets ? *buckets : std::vector<double>{};
        std::sort(b.begin(), b.end());
        b.erase(std::unique(b.begin(), b.end()), b.end());
        slot->histogram = std::make_unique<AtomicHistogram>(std::move(b));
      }
    }
    return *slot;
  } catch (...) {
    std::terminate();  // out of memory while registering a metric: nothing sensible remains
  }
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  const Labels& labels) noexcept {
  return *series(name, help, kCounter, nullptr, labels).counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help,
                              const Labels& labels) noexcept {
  return *series(name, help, kGauge, nullptr, labels).gauge;
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      const std::vector<double>& buckets,
                                      const Labels& labels) noexcept {
  return *series(name, help, kHistogram, &buckets, labels).histogram;
}

std::string MetricsRegistry::render_prometheus() const {
  std::ostringstream os;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, f] : families_) {
    os << "# HELP " << name << ' ' << escape_help(f->help) << '\n';
    os << "# TYPE " << name << ' ' << kTypeNames[f->type] << '\n';
    for (const auto& [key, s] : f->series) {
      if (s->counter) os << name << key << ' ' << format_number(s->counter->value()) << '\n';
      if (s->gauge) os << name << key << ' ' << format_number(s->gauge->value()) << '\n';
      if (s->histogram) s->histogram->render(os, name, s->labels);
    }
  }
  return os.str();
}

}  // namespace dfd::host
