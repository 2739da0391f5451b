// A real dfd cluster for end-to-end tests: a private RabbitMQ (scripts/rabbitmq), one info server
// and file servers, all real dfd-host processes on loopback, with configs written into a temp dir.
// Failures are reported with GoogleTest assertions; everything is stopped by PID in stop_all().
// Events are signed as in a real deployment: every server gets a key pair and an [events] table
// (scripts/event-keys: keys/<id>.key, .pub); the info server trusts keys/trusted-by-info/ (the
// file servers' public keys), the file servers trust keys/trusted-by-fs/ (the info server's).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster_tls.hpp"
#include "harness.hpp"

namespace dfd::test {

struct ClusterFileServer {
  std::string id, zone, control, content_url, dir, config;
  std::unique_ptr<Process> proc;
  std::string root() const { return dir + "/files"; }  // its storage root
};

class RealCluster {
 public:
  TempDir tmp;
  ClusterTls tls{tmp.file("pki")};     // TLS on every hop (cluster_tls.hpp): set `tls.on` first
  std::string amqp_url;                // node 1's (the only node's) URL
  std::vector<std::string> amqp_urls;  // every node's, node order
  // RabbitMQ nodes start_rabbit starts (scripts/rabbitmq --nodes; before start_rabbit). With more
  // than one, every server's broker section lists them all (`urls = [...]`).
  int rabbit_nodes = 1;
  std::string info_url, info_config;
  std::unique_ptr<Process> info;
  std::vector<ClusterFileServer> fs;

  std::string rabbit_dir() const { return tmp.file("rabbitmq"); }
  std::string keys_dir() const { return tmp.file("keys"); }
  std::string info_trusted_dir() const { return keys_dir() + "/trusted-by-info"; }
  std::string fs_trusted_dir() const { return keys_dir() + "/trusted-by-fs"; }
  // [events] max_age_s of every server this cluster writes (before write_*/add_*).
  int events_max_age_s = 600;

  // The [events] table of server `id` (its key pair is made when missing and its public key put
  // where the other role trusts it): `info_role` for the info server.
  std::string events_table(const std::string& id, bool info_role);

  // Starts the broker and reads its URL(s) from rabbitmq.env.
  void start_rabbit();
  // The broker-rabbitmq lines naming the broker: `url = "..."`, or `urls = [...]` for a cluster.
  std::string broker_url_lines() const;
  // scripts/rabbitmq `command` (stop-node, kill-node or start-node) on node `i` (1-based) of the
  // cluster; false on failure (the script's output in `output`).
  bool rabbit_node(const std::string& command, int i, std::string* output = nullptr);
  // broker-rabbitmq options for a test's own connection to this broker (as guest, on queue
  // `queue`): url, and ca_file when the cluster runs TLS (amqps).
  std::map<std::string, std::string> broker_options(const std::string& queue) const;
  // info-sqlite + auth-sqlite + broker-rabbitmq; the first admin's password comes from the
  // environment variable DFD_E2E_ADMIN_PASSWORD (set by start_info); heartbeat timeout 1.5 s.
  void write_info_config(const std::string& admin_email);
  // A file server's config (heartbeats every 200 ms, settle_ms 0) and its empty storage root; the
  // caller puts files into root() before start_fs().
  ClusterFileServer& add_file_server(const std::string& id, const std::string& zone,
                                     std::uint64_t chunk_size);
  void start_info(const std::string& admin_password);
  void start_fs(ClusterFileServer& f);
  // Resumes stopped servers, kills every process and stops the broker.
  void stop_all();

 private:
  pid_t rabbit_watchdog_ = -1;  // stops the broker if this process dies (start_watchdog)
};

}  // namespace dfd::test
