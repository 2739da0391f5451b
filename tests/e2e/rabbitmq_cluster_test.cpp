// Issue 16: dfd on a RabbitMQ cluster of three nodes (scripts/rabbitmq start --nodes 3). Every
// server's broker section lists the three nodes (`urls = [...]`), so the per-server queues are
// quorum queues, replicated to every node. One cluster for the whole binary (starting three nodes
// is the expensive part): one info server, file servers fs-a/b/c, the real `dfd` client. The
// nodes are stopped by PID at the end, also when a test fails (RealCluster::stop_all).
//
//   NodeKilledMidRun...: downloads run in a loop while the node every server is connected to is
//     killed (SIGKILL); every download succeeds, every server moves to another node, and every
//     download token whose manifest was answered is accepted by every file server.
//   RestartedFileServer...: a file server is stopped, tokens are issued, the node leading its
//     queue is stopped too, more tokens are issued; the file server, started again, accepts every
//     one of them (its queue lived on in the other nodes).
// Figures are printed in lines starting with "[figure]".
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client_cluster.hpp"
#include "harness.hpp"

using json = nlohmann::json;
using namespace dfd::test;
using namespace std::chrono_literals;

namespace {

const char* kAdminEmail = "admin@rabbit-cluster.test";
const char* kAdminPassword = "rabbit-cluster-admin-Pw-4e1b";
constexpr std::size_t kMiB = 1 << 20;
constexpr std::size_t kBigSize = 4 * kMiB;
constexpr int kNodes = 3;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class Cluster : public ClientCluster {
 public:
  Cluster() : ClientCluster(kAdminEmail, kAdminPassword, kBigSize, kMiB / 2) {
    rabbit_nodes = kNodes;
  }

  // Every server's control-plane URL (info first).
  std::vector<std::string> hosts() const {
    std::vector<std::string> out{info_url};
    for (auto& f : fs) out.push_back(f.control);
    return out;
  }

  // A manifest of the big sample: its download token, or "" (with the status in `status`).
  std::string manifest_token(long* status = nullptr) {
    auto r = api("GET", "/v1/files/" + std::to_string(big_id));
    if (status) *status = r.status;
    if (r.status != 200) return {};
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("download_token")) return {};
    return j.at("download_token").get<std::string>();
  }

  // The status file server `f` answers a one-byte range of the big sample with `token`: 206 when
  // it knows the token (it waits token_wait_ms for one it has not heard of yet).
  long token_status(const ClusterFileServer& f, const std::string& token) const {
    return http("GET", f.content_url + "/v1/content/" + big_sha,
                {"Authorization: Bearer " + token, "Range: bytes=0-0"})
        .status;
  }

  // The node (1-based) leading quorum queue `queue` (or holding it, for a classic queue), from
  // rabbitmqctl; 0 if unknown. Node names end in "-I@localhost".
  int queue_leader(const std::string& queue, std::string* output) {
    auto r = run({source_dir() + "/scripts/rabbitmq", "ctl", rabbit_dir(), "list_queues", "name",
                  "leader", "pid"});
    *output = r.output;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(queue + "\t", 0) != 0) continue;
      auto at = line.find('@', queue.size());
      auto dash = at == std::string::npos ? at : line.rfind('-', at);
      if (dash == std::string::npos) return 0;
      return std::atoi(line.substr(dash + 1, at - dash - 1).c_str());
    }
    return 0;
  }
};

Cluster* g = nullptr;
double g_start_s = 0;

// The value of metric `name` at `base`/metrics, or -1.
double metric(const std::string& base, const std::string& name) {
  auto r = http("GET", base + "/metrics");
  if (r.status != 200) return -1;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::atof(line.c_str() + name.size() + 1);
  }
  return -1;
}

// "http://...: publisher node N, consumer node M" for every host.
std::string nodes_report() {
  std::string out;
  for (auto& h : g->hosts()) {
    out += h + ": publisher node " +
           std::to_string(static_cast<int>(metric(h, "dfd_broker_publisher_node"))) +
           ", consumer node " +
           std::to_string(static_cast<int>(metric(h, "dfd_broker_consumer_node"))) + "\n";
  }
  return out;
}

// Waits until both connections of every host are up on a node for which `ok(node)` holds.
template <class Pred>
bool hosts_connected(Pred ok, std::chrono::seconds timeout) {
  const auto end = Clock::now() + timeout;
  do {
    bool all = true;
    for (auto& h : g->hosts()) {
      for (const char* m : {"dfd_broker_publisher_node", "dfd_broker_consumer_node"}) {
        const double n = metric(h, m);
        all = all && n >= 1 && ok(static_cast<int>(n));
      }
    }
    if (all) return true;
    std::this_thread::sleep_for(100ms);
  } while (Clock::now() < end);
  return false;
}

class RabbitCluster : public ClientClusterTest {
 protected:
  static void SetUpTestSuite() {
    const auto t0 = Clock::now();
    g = new Cluster();
    g->bring_up({{"fs-a", "zone-a"}, {"fs-b", "zone-b"}, {"fs-c", "zone-c"}});
    g_start_s = seconds_since(t0);
    std::printf("[figure] %d RabbitMQ nodes + info + 3 file servers up in %.1f s\n", kNodes,
                g_start_s);
  }
  static void TearDownTestSuite() { tear_down_cluster(g); }
  const ClientCluster* cluster() const override { return g; }

  // Every node runs again (a test that stopped one starts it before it ends; this catches a
  // test that failed before doing so).
  void SetUp() override {
    ClientClusterTest::SetUp();
    if (HasFatalFailure()) return;
    for (int i = 1; i <= kNodes; ++i) g->rabbit_node("start-node", i);  // fails if it runs
  }
};

TEST_F(RabbitCluster, NodeKilledMidRunNoDownloadFailsNoTokenLost) {
  // Every server starts on the first URL of its list: node 1.
  ASSERT_TRUE(hosts_connected([](int n) { return n == 1; }, 20s)) << nodes_report();

  std::atomic<bool> done{false};
  std::mutex mu;
  std::vector<std::string> tokens;
  std::map<long, int> manifest_status;  // HTTP status -> count
  std::thread manifests([&] {
    while (!done) {
      long status = 0;
      std::string token = g->manifest_token(&status);
      {
        std::lock_guard<std::mutex> lk(mu);
        ++manifest_status[status];
        if (!token.empty()) tokens.push_back(token);
      }
      std::this_thread::sleep_for(50ms);
    }
  });

  std::atomic<int> completed{0}, failed{0};
  std::string failures;
  std::thread downloads([&] {
    for (int i = 0; !done && i < 60; ++i) {
      const auto path = out("get-" + std::to_string(i) + ".bin");
      auto r = g->dfd({"get", std::to_string(g->big_id), "-o", path, "--no-progress"});
      const bool ok = r.status == 0 && sha256_file(path) == g->big_sha;
      if (!ok) {
        ++failed;
        std::lock_guard<std::mutex> lk(mu);
        failures += "download " + std::to_string(i) + ": exit " + std::to_string(r.status) + "\n" +
                    r.output + "\n";
      }
      ++completed;
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  });

  // Two downloads first, then node 1 dies while the next ones run.
  const auto wait_until = [&](auto pred, std::chrono::seconds timeout) {
    const auto end = Clock::now() + timeout;
    while (!pred() && Clock::now() < end) std::this_thread::sleep_for(20ms);
    return pred();
  };
  const bool warmed = wait_until([&] { return completed >= 2; }, 60s);
  std::string kill_out;
  const bool killed = warmed && g->rabbit_node("kill-node", 1, &kill_out);
  const auto killed_at = Clock::now();
  const int before = completed;
  const bool moved =
      killed && hosts_connected([](int n) { return n != 1; }, std::chrono::seconds(30));
  const double moved_s = seconds_since(killed_at);
  // At least four more downloads after every server moved to another node.
  const int moved_count = completed;
  wait_until([&] { return completed >= moved_count + 4; }, 90s);
  done = true;
  downloads.join();
  manifests.join();

  if (failed) {  // what RabbitMQ thinks of the queues, for the failure message
    auto q =
        run({source_dir() + "/scripts/rabbitmq", "ctl", g->rabbit_dir(), "list_queues", "name",
             "type", "leader", "online", "messages_ready", "messages_unacknowledged", "consumers"});
    failures += "\nqueues:\n" + q.output;
  }
  ASSERT_TRUE(warmed) << failures;
  ASSERT_TRUE(killed) << kill_out;
  EXPECT_TRUE(moved) << nodes_report();
  EXPECT_EQ(failed, 0) << failures;
  EXPECT_GE(completed - moved_count, 4);
  std::printf(
      "[figure] downloads: %d in all, %d before node 1 was killed, %d failed; every server on "
      "another node %.1f s after the kill\n",
      completed.load(), before, failed.load(), moved_s);
  std::string statuses;
  for (auto& [status, n] : manifest_status) {
    statuses += " " + std::to_string(n) + "x" + std::to_string(status);
  }
  std::printf("[figure] manifests:%s\n", statuses.c_str());
  ASSERT_FALSE(tokens.empty());

  // No token lost: every token a manifest answered with is known to every file server.
  int lost = 0;
  for (auto& f : g->fs) {
    for (auto& t : tokens) {
      const long st = g->token_status(f, t);
      if (st != 206) {
        ++lost;
        if (lost <= 5) ADD_FAILURE() << f.id << " refused a token issued with a manifest: " << st;
      }
    }
  }
  EXPECT_EQ(lost, 0);
  std::printf("[figure] %zu tokens x %zu file servers checked, %d refused\n", tokens.size(),
              g->fs.size(), lost);

  std::string start_out;
  EXPECT_TRUE(g->rabbit_node("start-node", 1, &start_out)) << start_out;
}

TEST_F(RabbitCluster, RestartedFileServerGetsTokensIssuedWhileItWasDown) {
  ASSERT_TRUE(hosts_connected([](int) { return true; }, 20s)) << nodes_report();
  auto& f = g->server("fs-a");
  f.proc->signal(SIGTERM);
  ASSERT_NE(f.proc->wait(15s), -1) << "fs-a did not stop";
  f.proc.reset();

  std::vector<std::string> tokens;
  const auto issue = [&](int n) {
    for (int i = 0; i < n; ++i) {
      std::string token;
      // The info server may be moving to another node right now: 503 is its answer meanwhile.
      for (int attempt = 0; token.empty() && attempt < 20; ++attempt) {
        token = g->manifest_token();
        if (token.empty()) std::this_thread::sleep_for(250ms);
      }
      ASSERT_FALSE(token.empty()) << "no manifest within 20 attempts";
      tokens.push_back(token);
    }
  };
  issue(5);
  ASSERT_FALSE(HasFatalFailure());

  std::string ctl;
  const int leader = g->queue_leader("fs-a", &ctl);
  ASSERT_GE(leader, 1) << ctl;
  std::string stop_out;
  ASSERT_TRUE(g->rabbit_node("stop-node", leader, &stop_out)) << stop_out;
  std::printf("[figure] fs-a's queue was led by node %d; node stopped\n", leader);
  issue(5);
  ASSERT_FALSE(HasFatalFailure());

  const auto t0 = Clock::now();
  g->start_fs(f);
  ASSERT_FALSE(HasFatalFailure());
  // Its consumer is up (on a node that runs) before its tokens are asked for.
  ASSERT_TRUE(hosts_connected([](int) { return true; }, 20s)) << nodes_report();
  int refused = 0;
  for (auto& t : tokens) {
    const long st = g->token_status(f, t);
    if (st != 206) ++refused;
    EXPECT_EQ(st, 206) << "fs-a refused a token issued while it was down";
  }
  std::printf("[figure] fs-a restarted: %zu tokens issued while it was down, %d refused, %.1f s\n",
              tokens.size(), refused, seconds_since(t0));
  std::printf("[figure] nodes in use afterwards (info, fs-a, fs-b, fs-c):\n%s",
              nodes_report().c_str());

  std::string start_out;
  EXPECT_TRUE(g->rabbit_node("start-node", leader, &start_out)) << start_out;
}

}  // namespace
