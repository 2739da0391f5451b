// What the data plane's event loops share: the injected services, the effective options and
// limits, the listener, the lifecycle flags and the metrics.
//
// Thread-safety: references and options are fixed after DataPlane::start(); flags and counts
// are atomics; the quotas lock inside; the metric maps are guarded by `metrics_mu`.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "content/access_log.hpp"
#include "content/connection_limits.hpp"
#include "content/data_plane.hpp"
#include "content/listener.hpp"
#include "content/tls_context.hpp"

namespace dfd::host {

class EventLoop;

struct PlaneContext {
  PlaneContext(Logger& l, Metrics& m, Auth& a, ContentSource& s, DataPlaneOptions o);

  Logger& log;
  Metrics& metrics;
  Auth& auth;
  ContentSource& source;
  DataPlaneOptions opt;
  DescriptorBudget budget;  // from max_connections and RLIMIT_NOFILE at start()
  std::unique_ptr<AddressQuota> connection_quota;
  std::unique_ptr<AddressQuota> parked_quota;
  std::atomic<std::int64_t> refusing{0};      // connections being answered 503 over a cap
  std::atomic<std::int64_t> handing_over{0};  // accepted sockets not yet taken in by a loop

  Counter& bytes_sent;
  Gauge& active;
  Gauge& parked;
  Counter& evicted;
  // TLS (null when the data plane serves plain HTTP).
  std::unique_ptr<TlsContext> tls;
  Counter& tls_failures;

  // The access log ([content] access_log; null without one). Declared before the loops, which
  // hand it their lines until they stop.
  std::unique_ptr<AccessLog> access_log;

  Listener listener;
  std::vector<std::unique_ptr<EventLoop>> loops;
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> grace_deadline_ns{0};
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::uint64_t> next_serial{0};

  Counter& status_counter(int status);
  Counter& denial_counter(const std::string& reason);
  // dfd_content_refused_total{reason}: connections_total, connections_per_address, descriptors,
  // parked_total, parked_per_address.
  Counter& refusal_counter(const std::string& reason);
  // A TLS handshake completed: counts dfd_content_tls_connections_total{path="ktls"|"userspace"}
  // and logs the first connection of each path.
  void count_tls_connection(bool ktls);

 private:
  Counter& labelled(std::unordered_map<std::string, Counter*>& map, const char* name,
                    const char* help, const char* label, const std::string& value);
  std::mutex metrics_mu_;
  std::unordered_map<std::string, Counter*> status_counters_;
  std::unordered_map<std::string, Counter*> denial_counters_;
  std::unordered_map<std::string, Counter*> refusal_counters_;
  Counter& tls_ktls_;
  Counter& tls_userspace_;
  std::atomic<bool> ktls_logged_{false};
  std::atomic<bool> userspace_logged_{false};
};

}  // namespace dfd::host
