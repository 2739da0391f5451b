// Issue 11's fault, load and secrets cases that need the whole system: a real RabbitMQ, one real
// info server, three real file servers (dfd-host processes, zones a/b/c, the same 8 MiB sample in
// each storage root, 1 MiB chunks) and the real `dfd` client. docs/reliability.md lists every
// case with what the system does and the figures of the last run; this suite prints its figures
// in lines starting with "[figure]".
//
// The secrets test runs last (ZZ): it collects every password and token the run used and greps
// every log, metric, health report and client output of the whole run for them.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client_cluster.hpp"
#include "harness.hpp"

using json = nlohmann::json;
using namespace dfd::test;
using namespace std::chrono_literals;

namespace {

const char* kAdminEmail = "admin@reliability.test";
const char* kAdminPassword = "reliability-admin-Pw-7f3a9c";
constexpr std::size_t kMiB = 1 << 20;
constexpr std::size_t kBigSize = 8 * kMiB;
constexpr int kConcurrentGets = 100;

class Cluster : public ClientCluster {
 public:
  Cluster() : ClientCluster(kAdminEmail, kAdminPassword, kBigSize, kMiB) {}

  // Every secret the run handed out or typed, for the secrets test.
  std::set<std::string> secrets;
  // Everything a client or API call printed or answered (errors included).
  std::string outputs;

  RunResult dfd_logged(std::vector<std::string> args, const std::string& stdin_data = "") {
    auto r = dfd(std::move(args), stdin_data);
    outputs += r.output;
    return r;
  }
  HttpReply api_logged(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    auto r = api(method, path, body);
    outputs += r.body;
    return r;
  }
  // A manifest with a fresh download token (remembered as a secret).
  json manifest() {
    auto r = api("GET", "/v1/files/" + std::to_string(big_id));
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("download_token")) return json::object();
    secrets.insert(j.at("download_token").get<std::string>());
    return j;
  }
};

Cluster* g = nullptr;

// How many of `secrets` occur in `text`; each one found is named by its length only.
int secrets_in(const std::string& text, const std::set<std::string>& secrets) {
  int found = 0;
  for (auto& s : secrets) {
    if (text.find(s) == std::string::npos) continue;
    ++found;
    std::printf("a secret of %zu characters appears\n", s.size());
  }
  return found;
}

class Reliability : public ClientClusterTest {
 protected:
  static void SetUpTestSuite() {
    g = new Cluster();
    g->bring_up({{"fs-a", "zone-a"}, {"fs-b", "zone-b"}, {"fs-c", "zone-c"}});
    if (g->logged_in) {
      g->secrets.insert(kAdminPassword);
      g->secrets.insert(g->user_token);
    }
  }
  static void TearDownTestSuite() { tear_down_cluster(g); }
  const ClientCluster* cluster() const override { return g; }
};

// The info server is killed (SIGKILL) and restarted between the manifest and the download: the
// download token it issued is still honoured by every file server (they learned it through their
// own queues), the user token survives the restart, and `dfd get` works afterwards.
TEST_F(Reliability, InfoServerRestartedBetweenManifestAndDownload) {
  json m = g->manifest();
  ASSERT_TRUE(m.contains("locations")) << m.dump();
  const std::string token = m.at("download_token").get<std::string>();
  const auto chunk = m.at("chunk_size").get<std::size_t>();
  const auto& locations = m.at("locations");
  ASSERT_EQ(locations.size(), 3u) << m.dump();

  g->info->signal(SIGKILL);
  ASSERT_EQ(g->info->wait(10s), 128 + SIGKILL);
  g->start_info(kAdminPassword);
  ASSERT_FALSE(HasFatalFailure());

  // Every chunk from a different server in turn, with the token from before the restart.
  std::string bytes;
  for (std::size_t off = 0, i = 0; off < kBigSize; off += chunk, ++i) {
    const auto url = locations.at(i % locations.size()).at("url").get<std::string>();
    const auto last = std::min(off + chunk, kBigSize) - 1;
    auto r = http("GET", url + "/v1/content/" + g->big_sha,
                  {"Authorization: Bearer " + token,
                   "Range: bytes=" + std::to_string(off) + "-" + std::to_string(last)});
    ASSERT_EQ(r.status, 206) << url << ": " << r.body;
    bytes += r.body;
  }
  const auto path = out("pieces.bin");
  write_file(path, bytes);
  EXPECT_EQ(sha256_file(path), g->big_sha);

  auto r = g->dfd_logged({"get", big_id(), "-o", out("after-restart.bin"), "--no-progress"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(sha256_file(out("after-restart.bin")), g->big_sha);
}

// Load: 100 `dfd get` of the same file from three servers at the same time. Every one exits 0 with
// a byte-identical file; the peak memory of each server is reported.
TEST_F(Reliability, HundredConcurrentGetsAllVerify) {
  std::vector<std::unique_ptr<Process>> clients;
  for (int i = 0; i < kConcurrentGets; ++i) {
    const auto n = std::to_string(i);
    clients.push_back(g->dfd_async(
        {"get", big_id(), "-o", out("c" + n + ".bin"), "--no-progress", "--per-server", "2"},
        out("c" + n + ".log")));
  }
  int ok = 0, verified = 0;
  std::string failures;
  for (int i = 0; i < kConcurrentGets; ++i) {
    const auto n = std::to_string(i);
    int rc = clients[i]->wait(180s);
    if (rc == 0) ++ok;
    if (rc != 0 && failures.size() < 4000)
      failures += "client " + n + " rc " + std::to_string(rc) + ": " + clients[i]->log() + "\n";
    if (sha256_file(out("c" + n + ".bin")) == g->big_sha) ++verified;
    std::filesystem::remove(out("c" + n + ".bin"));
  }
  std::printf(
      "[figure] %d concurrent dfd get of %zu MiB from 3 servers: %d exited 0, %d verified\n",
      kConcurrentGets, kBigSize / kMiB, ok, verified);
  std::printf("[figure] peak RSS: info %ld KiB", peak_rss_kib(g->info->pid()));
  for (auto& f : g->fs) std::printf(", %s %ld KiB", f.id.c_str(), peak_rss_kib(f.proc->pid()));
  std::printf("\n");
  EXPECT_EQ(ok, kConcurrentGets) << failures;
  EXPECT_EQ(verified, kConcurrentGets);
}

// Wrong passwords and tokens are errors that do not repeat what was typed.
TEST_F(Reliability, RefusedCredentialsAreNotEchoed) {
  const std::string wrong = "wrong-Pw-for-reliability-31c4";
  g->secrets.insert(wrong);
  auto r = g->dfd_logged({"login", "--email", kAdminEmail, "--password-stdin"}, wrong + "\n");
  EXPECT_NE(r.status, 0) << r.output;
  auto h = http("POST", g->info_url + "/v1/auth/login", {"Content-Type: application/json"},
                json{{"email", "nobody@reliability.test"}, {"password", wrong}}.dump());
  g->outputs += h.body;
  EXPECT_EQ(h.status, 401) << h.body;

  const std::string forged = std::string(43, 'Q') + "forged";
  g->secrets.insert(forged);
  json m = g->manifest();
  ASSERT_TRUE(m.contains("locations"));
  for (auto& loc : m.at("locations")) {
    auto c = http("GET", loc.at("url").get<std::string>() + "/v1/content/" + g->big_sha,
                  {"Authorization: Bearer " + forged, "Range: bytes=0-9"});
    g->outputs += c.body;
    EXPECT_EQ(c.status, 403) << c.body;
  }
}

// A user created by the admin logs in and downloads; their password and tokens join the secrets.
TEST_F(Reliability, SecondUserDownloads) {
  const std::string email = "user2@reliability.test", password = "user2-Pw-reliability-88e1";
  g->secrets.insert(password);
  auto u =
      g->api_logged("POST", "/v1/users",
                    json{{"email", email}, {"password", password}, {"name", "User Two"}}.dump());
  ASSERT_TRUE(u.status == 200 || u.status == 201) << u.body;
  auto l = http("POST", g->info_url + "/v1/auth/login", {"Content-Type: application/json"},
                json{{"email", email}, {"password", password}}.dump());
  ASSERT_EQ(l.status, 200) << l.body;
  const auto token = json::parse(l.body).at("token").get<std::string>();
  g->secrets.insert(token);
  auto m = http("GET", g->info_url + "/v1/files/" + big_id(), {"Authorization: Bearer " + token});
  ASSERT_EQ(m.status, 200) << m.body;
  g->secrets.insert(json::parse(m.body).at("download_token").get<std::string>());
}

// Runs last: no password or token of the run appears in any log, metric, health report, client
// output or error of the whole run, nor in any database (tokens and passwords are stored hashed).
TEST_F(Reliability, ZZSecretsAppearNowhere) {
  std::string seen = g->outputs;
  std::vector<std::string> urls = {g->info_url};
  for (auto& f : g->fs) urls.push_back(f.control);
  for (auto& u : urls) {
    for (const char* path : {"/healthz", "/metrics"}) {
      auto r = http("GET", u + path);
      EXPECT_EQ(r.status, 200) << u << path;
      seen += r.body;
    }
  }
  int files = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(g->tmp.path(), ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file()) continue;
    const auto p = it->path().string();
    // The client's own credentials file holds the user token by design (mode 0600).
    if (p.find("/xdg/dfd/credentials") != std::string::npos) continue;
    if (p.find("/samples/") != std::string::npos || it->file_size() > 64 * kMiB) continue;
    seen += read_file(p);
    ++files;
  }
  std::printf("[figure] secrets test: %zu secrets searched in %d files, %zu bytes in all\n",
              g->secrets.size(), files, seen.size());
  ASSERT_GE(g->secrets.size(), 6u);
  // The search itself works: the credentials file (left out above) holds the user token.
  EXPECT_EQ(secrets_in(read_file(g->xdg() + "/dfd/credentials"), g->secrets), 1);
  // The logs were read: every server logs its id at start; the audit log names the admin.
  for (auto& f : g->fs) EXPECT_NE(seen.find(f.id), std::string::npos);
  EXPECT_NE(read_file(g->tmp.file("info/audit.log")).find(kAdminEmail), std::string::npos);
  EXPECT_EQ(secrets_in(seen, g->secrets), 0);
}

}  // namespace
