// A real dfd cluster for end-to-end tests: a private RabbitMQ (scripts/rabbitmq), one info server
// and file servers, all real dfd-host processes on loopback, with configs written into a temp dir.
// Failures are reported with GoogleTest assertions; everything is stopped by PID in stop_all().
#pragma once

#include <cstdint>
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
  ClusterTls tls{tmp.file("pki")};  // TLS on every hop (cluster_tls.hpp): set `tls.on` first
  std::string amqp_url;
  std::string info_url, info_config;
  std::unique_ptr<Process> info;
  std::vector<ClusterFileServer> fs;

  std::string rabbit_dir() const { return tmp.file("rabbitmq"); }

  // Starts the broker and reads its URL from rabbitmq.env.
  void start_rabbit();
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
};

}  // namespace dfd::test
