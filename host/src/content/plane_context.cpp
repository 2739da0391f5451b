#include "content/plane_context.hpp"

#include "content/event_loop.hpp"

namespace dfd::host {

namespace {
constexpr const char* kTlsConnections = "dfd_content_tls_connections_total";
constexpr const char* kTlsConnectionsHelp =
    "Data-plane TLS connections by how bodies are encrypted (ktls: by the kernel, zero-copy; "
    "userspace: by OpenSSL from a bounded buffer)";
}  // namespace

PlaneContext::PlaneContext(Logger& l, Metrics& m, Auth& a, ContentSource& s, DataPlaneOptions o)
    : log(l),
      metrics(m),
      auth(a),
      source(s),
      opt(std::move(o)),
      bytes_sent(m.counter("dfd_content_bytes_sent_total",
                           "File bytes sent by the data plane (bodies of 200/206 responses)")),
      active(m.gauge("dfd_content_active_connections", "Open data-plane connections")),
      parked(m.gauge("dfd_content_parked_requests",
                     "Requests waiting for their download token to become known")),
      evicted(m.counter("dfd_content_evicted_connections_total",
                        "Idle data-plane connections closed to make room for a new one")),
      tls_failures(
          m.counter("dfd_content_tls_handshake_failures_total",
                    "Data-plane TLS handshakes that failed (plain HTTP, garbage, resets)")),
      tls_ktls_(m.counter(kTlsConnections, kTlsConnectionsHelp, {{"path", "ktls"}})),
      tls_userspace_(m.counter(kTlsConnections, kTlsConnectionsHelp, {{"path", "userspace"}})) {}

void PlaneContext::count_tls_connection(bool ktls) {
  (ktls ? tls_ktls_ : tls_userspace_).add(1);
  if ((ktls ? ktls_logged_ : userspace_logged_).exchange(true)) return;
  log.info(ktls ? "data plane: TLS connection with kTLS (the kernel encrypts; bodies go with "
                  "SSL_sendfile, zero-copy)"
                : "data plane: TLS connection encrypted in user space (kTLS not offered for "
                  "it; bodies are read into a bounded buffer and written with SSL_write)");
}

Counter& PlaneContext::labelled(std::unordered_map<std::string, Counter*>& map, const char* name,
                                const char* help, const char* label, const std::string& value) {
  std::lock_guard<std::mutex> g(metrics_mu_);
  auto it = map.find(value);
  if (it != map.end()) return *it->second;
  Counter& c = metrics.counter(name, help, {{label, value}});
  map.emplace(value, &c);
  return c;
}

Counter& PlaneContext::status_counter(int status) {
  return labelled(status_counters_, "dfd_content_responses_total", "Data-plane responses by status",
                  "status", std::to_string(status));
}

Counter& PlaneContext::denial_counter(const std::string& reason) {
  return labelled(denial_counters_, "dfd_content_token_denials_total",
                  "Requests refused for their download token, by reason", "reason", reason);
}

Counter& PlaneContext::refusal_counter(const std::string& reason) {
  return labelled(refusal_counters_, "dfd_content_refused_total",
                  "Connections and requests refused over a limit, by limit", "reason", reason);
}

}  // namespace dfd::host
