#include "client_cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dfd::test {
using json = nlohmann::json;

std::string sha256_file(const std::string& path) {
  auto r = run({"sha256sum", path});
  return r.status == 0 ? r.output.substr(0, 64) : "error: " + r.output;
}

json report_of(const std::string& out) {
  json last;
  for (std::size_t pos = 0; pos < out.size(); pos = out.find('\n', pos) + 1) {
    if (out[pos] == '{') {
      std::istringstream in(out.substr(pos));
      json j;
      try {
        in >> j;  // reads one value, ignores what follows
        if (j.is_object()) last = std::move(j);
      } catch (const json::exception&) {
      }
    }
    if (out.find('\n', pos) == std::string::npos) break;
  }
  return last;
}

const json* server_in(const json& rep, const std::string& id) {
  if (!rep.contains("servers")) return nullptr;
  for (auto& s : rep.at("servers"))
    if (s.value("id", "") == id) return &s;
  return nullptr;
}

long peak_rss_kib(pid_t pid) {
  const std::string v = proc_status(pid, "VmHWM");  // "14000 kB"
  return v.empty() ? -1 : std::stol(v);
}

ClientCluster::ClientCluster(std::string email, std::string password, std::size_t big,
                             std::size_t chunk)
    : admin_email(std::move(email)),
      admin_password(std::move(password)),
      big_size(big),
      chunk_size(chunk) {}

void ClientCluster::bring_up(const std::vector<std::pair<std::string, std::string>>& servers) {
  write_samples();
  if (::testing::Test::HasFatalFailure()) return;
  start_rabbit();
  if (::testing::Test::HasFatalFailure()) return;
  write_info_config(admin_email);
  for (auto& [id, zone] : servers) add_file_server(id, zone);
  if (::testing::Test::HasFatalFailure()) return;
  start_info(admin_password);
  if (::testing::Test::HasFatalFailure()) return;
  for (auto& f : fs) {
    start_fs(f);
    if (::testing::Test::HasFatalFailure()) return;
  }
  login();
  if (::testing::Test::HasFatalFailure()) return;
  wait_locations(servers.size());
}

std::map<std::string, std::string> ClientCluster::dfd_env() const {
  std::map<std::string, std::string> env{{"DFD_SERVER", info_url}, {"XDG_CONFIG_HOME", xdg()}};
  if (tls.on) env["DFD_CA_BUNDLE"] = tls.ca_file();
  return env;
}

void ClientCluster::write_samples() {
  big_path = tmp.file("samples/big.bin");
  small_path = tmp.file("samples/small.txt");
  write_file(small_path, "a small file for dfd's end-to-end tests\n");
  // Written in 8 MiB pieces, so a 4 GiB sample does not need 4 GiB of memory.
  std::ofstream big(big_path, std::ios::binary | std::ios::trunc);
  std::mt19937_64 rng(20261124);
  std::vector<std::uint64_t> piece(std::size_t{1} << 20);
  for (std::size_t done = 0; done < big_size;) {
    for (auto& v : piece) v = rng();
    auto n = std::min(big_size - done, piece.size() * sizeof(std::uint64_t));
    big.write(reinterpret_cast<const char*>(piece.data()), static_cast<std::streamsize>(n));
    done += n;
  }
  big.close();
  ASSERT_TRUE(big.good()) << "cannot write " << big_path;
  big_sha = sha256_file(big_path);
}

void ClientCluster::add_file_server(const std::string& id, const std::string& zone) {
  auto& f = RealCluster::add_file_server(id, zone, chunk_size);
  auto cp = run({"cp", big_path, small_path, f.root() + "/"});
  ASSERT_EQ(cp.status, 0) << cp.output;
}

RunResult ClientCluster::dfd(std::vector<std::string> args, const std::string& stdin_data) {
  args.insert(args.begin(), bin("dfd"));
  return run(args, stdin_data, dfd_env());
}

std::unique_ptr<Process> ClientCluster::dfd_async(std::vector<std::string> args,
                                                  const std::string& log) {
  args.insert(args.begin(), bin("dfd"));
  return std::make_unique<Process>(args, dfd_env(), log);
}

HttpReply ClientCluster::api(const std::string& method, const std::string& path,
                             const std::string& body) {
  return http(method, info_url + path,
              {"Content-Type: application/json", "Authorization: Bearer " + user_token}, body);
}

void ClientCluster::login() {
  auto r = dfd({"login", "--email", admin_email, "--password-stdin"}, admin_password + "\n");
  ASSERT_EQ(r.status, 0) << r.output;
  auto cred = json::parse(read_file(xdg() + "/dfd/credentials"), nullptr, false);
  ASSERT_FALSE(cred.is_discarded());
  user_token = cred.value("token", "");
  ASSERT_FALSE(user_token.empty());
  logged_in = true;
}

void ClientCluster::wait_locations(std::size_t want, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < end) {
    auto r = dfd({"ls", "--json"});
    auto j = json::parse(r.output, nullptr, false);
    if (r.status == 0 && !j.is_discarded()) {
      for (auto& f : j.at("files")) {
        if (f.value("name", "") == kBigName) big_id = f.at("id").get<std::int64_t>();
        if (f.value("name", "") == kSmallName) small_id = f.at("id").get<std::int64_t>();
      }
    }
    if (big_id && small_id) {
      auto m = api("GET", "/v1/files/" + std::to_string(big_id));
      last = m.body;
      auto mj = json::parse(m.body, nullptr, false);
      if (m.status == 200 && !mj.is_discarded() && mj.at("locations").size() == want) return;
    } else {
      last = r.output;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL() << "the big sample never had " << want << " locations; last: " << last;
}

ClusterFileServer& ClientCluster::server(const std::string& id) {
  for (auto& f : fs)
    if (f.id == id) return f;
  throw std::runtime_error("no server " + id);
}

}  // namespace dfd::test
