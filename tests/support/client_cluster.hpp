// A real cluster driven through the real `dfd` client: RealCluster (RabbitMQ, one info server,
// file servers) plus two samples in every storage root (big.bin of `big_size` bytes, small.txt),
// a logged-in `dfd` (its own XDG_CONFIG_HOME) and helpers to read its --json report. Shared by the
// client acceptance suite (e2e_client_test) and the reliability suite (e2e_reliability_test).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.hpp"
#include "real_cluster.hpp"

namespace dfd::test {

std::string sha256_file(const std::string& path);

// The --json report (pretty-printed): the last JSON object in `out` that starts at the beginning
// of a line (stderr is merged into the same capture, so other lines may surround it).
nlohmann::json report_of(const std::string& out);

// The report's entry for server `id`, or nullptr.
const nlohmann::json* server_in(const nlohmann::json& rep, const std::string& id);

// Peak resident memory of a running process (VmHWM of /proc/PID/status) in KiB; -1 if unknown.
long peak_rss_kib(pid_t pid);

class ClientCluster : public RealCluster {
 public:
  static constexpr const char* kBigName = "big.bin";
  static constexpr const char* kSmallName = "small.txt";

  ClientCluster(std::string admin_email, std::string admin_password, std::size_t big_size,
                std::size_t chunk_size);

  const std::string admin_email, admin_password;
  const std::size_t big_size, chunk_size;
  std::string big_path, big_sha, small_path;
  std::int64_t big_id = 0, small_id = 0;
  std::string user_token;  // for direct API calls (aria2c needs a download token)
  bool logged_in = false;

  // Samples, broker, info server, the file servers (id, zone), login, and every location seen.
  // Failures are GoogleTest failures; check HasFatalFailure() after it.
  void bring_up(const std::vector<std::pair<std::string, std::string>>& servers);

  std::string xdg() const { return tmp.file("xdg"); }
  std::map<std::string, std::string> dfd_env() const;
  void write_samples();
  // A file server holding copies of both samples.
  void add_file_server(const std::string& id, const std::string& zone);
  RunResult dfd(std::vector<std::string> args, const std::string& stdin_data = "");
  std::unique_ptr<Process> dfd_async(std::vector<std::string> args, const std::string& log);
  HttpReply api(const std::string& method, const std::string& path, const std::string& body = "");
  void login();
  // Waits until `dfd ls --json` lists both samples and the big one has `want` live locations.
  void wait_locations(std::size_t want,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ClusterFileServer& server(const std::string& id);
};

// Stops every process of `c`, deletes it and clears the pointer (a suite's TearDownTestSuite).
template <class C>
void tear_down_cluster(C*& c) {
  if (!c) return;
  c->stop_all();
  delete c;
  c = nullptr;
}

// A test of a suite that shares one ClientCluster: SetUp checks the cluster came up and gives each
// test a fresh output folder.
class ClientClusterTest : public ::testing::Test {
 protected:
  virtual const ClientCluster* cluster() const = 0;
  void SetUp() override {
    ASSERT_NE(cluster(), nullptr);
    ASSERT_TRUE(cluster()->logged_in) << "cluster did not come up";
    ASSERT_NE(cluster()->big_id, 0);
    out_dir_ = std::make_unique<TempDir>();
  }
  std::string out(const std::string& name) const { return out_dir_->file(name); }
  std::string big_id() const { return std::to_string(cluster()->big_id); }

  std::unique_ptr<TempDir> out_dir_;
};

}  // namespace dfd::test
