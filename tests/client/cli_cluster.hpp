// The test cluster of the client's CLI tests: an info endpoint and three file servers
// (tests/client/test_file_server.*) on 127.0.0.1 serving one random file, and the real `dfd`
// binary run against them with its own config directory.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"
#include "test_file_server.hpp"

namespace dfd::test::cli {

using nlohmann::json;

constexpr std::size_t kMiB = 1 << 20;

struct Cluster {
  TempDir dir;
  TestFile file;
  std::vector<std::unique_ptr<TestServer>> fs;
  TestServer info{"info"};
  std::map<std::string, std::string> env;
  std::vector<dfd::wire::Location> locs;
  std::vector<std::string> tokens;

  explicit Cluster(std::size_t size = 24 * kMiB, std::size_t chunk = kMiB,
                   std::string alg = "sha256", std::vector<std::string> tokens = {"dl-1"},
                   std::set<std::string> accepted = {"dl-1"})
      : tokens(std::move(tokens)) {
    file.id = 7;
    file.name = "movie.bin";
    file.data = random_bytes(size, 42);
    file.chunk_size = chunk;
    file.alg = alg;
    file.uid = digest_hex(alg, file.data->data(), file.data->size());
    for (const char* id : {"fs-a", "fs-b", "fs-c"}) {
      fs.push_back(std::make_unique<TestServer>(id));
      fs.back()->serve_content(file.uid, file.data);
      fs.back()->set_tokens(accepted);
      locs.push_back({id, std::string("zone-") + id[3], fs.back()->url(), true});
    }
    info.serve_info("ann@example.org", "s3cret", {file}, locs, this->tokens);
    env = {
        {"XDG_CONFIG_HOME", dir.file("config")}, {"DFD_SERVER", info.url()}, {"HOME", dir.path()}};
  }

  // The catalog and the manifests name the file `name` from now on (call between dfd runs).
  void rename_file(const std::string& name) {
    file.name = name;
    info.serve_info("ann@example.org", "s3cret", {file}, locs, tokens);
  }

  RunResult dfd(std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), bin("dfd"));
    return run(args, in, env);
  }

  void login() {
    auto r = dfd({"login", "--email", "ann@example.org", "--password-stdin"}, "s3cret\n");
    ASSERT_EQ(r.status, 0) << r.output;
  }

  std::string out() const { return dir.file("out.bin"); }

  std::uint64_t served() const {
    std::uint64_t n = 0;
    for (auto& s : fs) n += s->body_bytes.load();
    return n;
  }
};

// The JSON report printed on stdout by --json (stderr lines may follow it).
inline json report_of(const std::string& output) {
  auto b = output.find("{\n");
  auto e = output.rfind("\n}");
  if (b == std::string::npos || e == std::string::npos) return json();
  return json::parse(output.substr(b, e + 2 - b), nullptr, false);
}

inline const json* server_in(const json& rep, const std::string& id) {
  for (const auto& s : rep["servers"])
    if (s["id"] == id) return &s;
  return nullptr;
}

inline std::vector<std::string> get_args(const Cluster& c, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"get", "7", "-o", c.out(), "--json", "--no-progress"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace dfd::test::cli
