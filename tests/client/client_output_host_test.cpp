// `dfd get` output against a real dfd-host (issue 13): an all-in-one host (tests/info/aio_host.hpp)
// with TLS on the info API and the data plane, serving 8 MiB in chunks of 64 KiB. `-o -` piped
// into sha256sum gives the file's digest with a window 16 times smaller than the file, and the
// temporary part never holds much more than the window; `-d DIR/NEW/` creates the folder and
// saves the file under its catalog name.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <thread>

#include "aio_host.hpp"
#include "harness.hpp"
#include "test_file_server.hpp"

namespace dfd::test {
namespace {
using namespace std::chrono_literals;

// The file the host serves: 8 MiB of deterministic bytes.
const std::string& content() {
  static const auto bytes = random_bytes(8 << 20, 13);
  return *bytes;
}

class ClientOutputHost : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(make_pki(pki_.path(), {"server"}));
    set_http_tls({pki_.file("ca.pem"), "", ""});  // for the host's readiness check
    host_ =
        std::make_unique<AioHost>(content(), "", "kdf_iterations = 1000\n", AioTls{pki_.path()});
    ASSERT_TRUE(host_->ready) << host_->host->log();
    env_ = {{"XDG_CONFIG_HOME", home_.file("config")},
            {"HOME", home_.path()},
            {"TMPDIR", tmp_.path()},
            {"DFD_SERVER", host_->base},
            {"DFD_CA_BUNDLE", pki_.file("ca.pem")}};
    auto r = run({bin("dfd"), "login", "--email", "admin@example.com", "--password-stdin"},
                 "admin-password-1\n", env_);
    ASSERT_EQ(r.status, 0) << r.output;
    auto end = std::chrono::steady_clock::now() + 20s;
    while (id_.empty() && std::chrono::steady_clock::now() < end) {
      auto ls = run({bin("dfd"), "ls", "--json"}, "", env_);
      auto j = nlohmann::json::parse(ls.output.substr(0, ls.output.rfind('}') + 1), nullptr, false);
      if (ls.status == 0 && j.is_object() && j["total"] == 1)
        id_ = std::to_string(j["files"][0]["id"].get<int>());
      else
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_NE(id_, "") << host_->host->log();
  }
  void TearDown() override {
    host_.reset();
    set_http_tls({});
  }

  TempDir pki_, home_, tmp_;
  std::unique_ptr<AioHost> host_;
  std::map<std::string, std::string> env_;
  std::string id_;
};

TEST_F(ClientOutputHost, StreamIntoSha256sumWithAWindowSixteenTimesSmaller) {
  std::string err = home_.file("err.txt");
  auto r = run({"timeout", "120", "bash", "-c",
                "set -o pipefail; '" + bin("dfd") + "' get " + id_ +
                    " -o - --stream-window 524288 2>'" + err + "' | sha256sum"},
               "", env_);
  std::string log = read_file(err);
  ASSERT_EQ(r.status, 0) << r.output << log;
  EXPECT_EQ(r.output.substr(0, 64), digest_hex("sha256", content().data(), content().size()))
      << log;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      log, m,
      std::regex("streamed 8\\.0 MiB to stdout; temporary space used at most ([0-9.]+) (B|KiB)")))
      << log;
  double peak = std::stod(m[1]) * (m[2] == "KiB" ? 1024 : 1);
  EXPECT_LE(peak, 512 * 1024 + 2 * 65536) << log;  // the window, a chunk, a chunk of slack
  EXPECT_EQ(run({"find", tmp_.path(), "-mindepth", "1"}).output, "") << "temporary folder removed";
}

TEST_F(ClientOutputHost, DirOptionCreatesTheFolderAndUsesTheName) {
  std::string dir = home_.file("downloads/new/");
  auto r = run({bin("dfd"), "get", id_, "-d", dir, "--no-progress"}, "", env_);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("dfd: created folder " + home_.file("downloads/new")), std::string::npos)
      << r.output;
  EXPECT_TRUE(read_file(dir + "hello.txt") == content());
}

}  // namespace
}  // namespace dfd::test
