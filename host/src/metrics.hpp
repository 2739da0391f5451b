// The host's metrics registry (dfd::Metrics) and its Prometheus text rendering for GET /metrics.
//
// Thread-safety: every method may be called from any thread. Registration takes a mutex; updates
// to a counter, gauge or histogram are lock-free atomics. Returned references live as long as the
// registry.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dfd/host_services.hpp"

namespace dfd::host {

class MetricsRegistry final : public Metrics {
 public:
  MetricsRegistry();
  ~MetricsRegistry() override;

  Counter& counter(std::string_view name, std::string_view help,
                   const Labels& labels = {}) noexcept override;
  Gauge& gauge(std::string_view name, std::string_view help,
               const Labels& labels = {}) noexcept override;
  Histogram& histogram(std::string_view name, std::string_view help,
                       const std::vector<double>& buckets,
                       const Labels& labels = {}) noexcept override;

  // Every family in the text exposition format 0.0.4, families sorted by name.
  std::string render_prometheus() const;

 private:
  struct Family;
  struct Series;
  Series& series(std::string_view name, std::string_view help, int type,
                 const std::vector<double>* buckets, const Labels& labels) noexcept;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

}  // namespace dfd::host
