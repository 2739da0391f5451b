// The real `dfd` against a real info server whose control plane is HTTPS (issue 12; an all-in-one
// dfd-host, tests/info/aio_host.hpp, certificates from scripts/pki): login and ls succeed with
// --cacert or DFD_CA_BUNDLE; without the CA they fail with the certificate error and exit 11; a
// manifest fetched over https whose only location is plain http is refused (exit 11) unless
// --allow-insecure-locations.
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "aio_host.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr int kExitTls = 11;

class ClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    ASSERT_TRUE(make_pki(pki_->path(), {"server", "client"}));
    set_http_tls({pki_->file("ca.pem"), "", ""});
    // The data plane stays plain http: the manifest's location is http:// (the location policy).
    aio_ = new AioHost("hello over tls\n", "", "kdf_iterations = 1000\n",
                       AioTls{pki_->path(), false, false});
  }
  static void TearDownTestSuite() {
    delete aio_;
    aio_ = nullptr;
    delete pki_;
    pki_ = nullptr;
    set_http_tls({});
  }
  void SetUp() override {
    ASSERT_TRUE(aio_->ready) << aio_->host->log();
    env_ = {{"XDG_CONFIG_HOME", home_.file("config")}, {"HOME", home_.path()}};
  }

  RunResult dfd(std::vector<std::string> args, const std::string& in = "",
                std::map<std::string, std::string> extra_env = {}) {
    args.insert(args.begin(), {bin("dfd"), "--server", aio_->base});
    auto env = env_;
    for (auto& [k, v] : extra_env) env[k] = v;
    return run(args, in, env);
  }
  RunResult login(std::vector<std::string> tls_args, std::map<std::string, std::string> env = {}) {
    tls_args.insert(tls_args.end(), {"login", "--email", "admin@example.com", "--password-stdin"});
    return dfd(tls_args, "admin-password-1\n", env);
  }
  std::string ca() const { return pki_->file("ca.pem"); }

  // `dfd ls` until hello.txt is listed; its id ("" after 20 s).
  std::string wait_listed() {
    auto end = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < end) {
      auto r = dfd({"--cacert", ca(), "ls", "--json"});
      auto j = nlohmann::json::parse(r.output.substr(0, r.output.rfind('}') + 1), nullptr, false);
      if (r.status == 0 && j.is_object() && j["total"] == 1)
        return std::to_string(j["files"][0]["id"].get<int>());
      std::this_thread::sleep_for(100ms);
    }
    return "";
  }

  static TempDir* pki_;
  static AioHost* aio_;
  TempDir home_;
  std::map<std::string, std::string> env_;
};
TempDir* ClientTls::pki_ = nullptr;
AioHost* ClientTls::aio_ = nullptr;

TEST_F(ClientTls, LoginAndLsWithCacert) {
  auto r = login({"--cacert", ca()});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(wait_listed(), "") << aio_->host->log();
  r = dfd({"ls", "--cacert", ca()});  // also after the command name
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("hello.txt"));
}

TEST_F(ClientTls, LoginAndLsWithTheEnvironmentsCaBundle) {
  auto r = login({}, {{"DFD_CA_BUNDLE", ca()}});
  ASSERT_EQ(r.status, 0) << r.output;
  r = dfd({"ls"}, "", {{"DFD_CA_BUNDLE", ca()}});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("hello.txt"));
}

TEST_F(ClientTls, WithoutTheCaTheCertificateErrorIsClear) {
  auto r = login({});
  EXPECT_EQ(r.status, kExitTls) << r.output;
  EXPECT_THAT(r.output, HasSubstr("TLS certificate of " + aio_->base + " not trusted: "));
  EXPECT_THAT(r.output, HasSubstr("pass --cacert FILE or set DFD_CA_BUNDLE"));
  // Logged in with the CA, a later ls without it fails the same way.
  ASSERT_EQ(login({"--cacert", ca()}).status, 0);
  r = dfd({"ls"});
  EXPECT_EQ(r.status, kExitTls) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not trusted"));
}

TEST_F(ClientTls, AnUnreadableCaFileIsAUsageError) {
  auto r = login({"--cacert", home_.file("missing.pem")});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--cacert " + home_.file("missing.pem") + ": cannot read"));
}

TEST_F(ClientTls, HttpsManifestWithOnlyPlainHttpLocationsIsRefused) {
  ASSERT_EQ(login({"--cacert", ca()}).status, 0);
  std::string id = wait_listed();
  ASSERT_NE(id, "");
  std::string out = home_.file("hello.txt");
  auto r = dfd({"--cacert", ca(), "get", id, "-o", out, "--no-progress"});
  EXPECT_EQ(r.status, kExitTls) << r.output;
  EXPECT_THAT(r.output, HasSubstr("skipping location " + aio_->data));
  EXPECT_THAT(r.output, HasSubstr("refusing to send the download token in clear text"));
  EXPECT_NE(::access(out.c_str(), F_OK), 0) << "nothing may be fetched";

  r = dfd({"--cacert", ca(), "get", id, "-o", out, "--no-progress", "--allow-insecure-locations"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("skipping location")));
  EXPECT_EQ(read_file(out), "hello over tls\n");
}

// Control and data plane over TLS: `dfd get` fetches the manifest and the bytes over https with
// the CA, and fails with the certificate message without it.
TEST_F(ClientTls, GetOverHttpsEverywhere) {
  AioHost both("bytes over https\n", "", "kdf_iterations = 1000\n", AioTls{pki_->path()});
  ASSERT_TRUE(both.ready) << both.host->log();
  ASSERT_EQ(both.data.rfind("https://", 0), 0u);
  auto in_both = [&](std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {bin("dfd"), "--server", both.base, "--cacert", ca()});
    return run(args, in, env_);
  };
  ASSERT_EQ(
      in_both({"login", "--email", "admin@example.com", "--password-stdin"}, "admin-password-1\n")
          .status,
      0);
  std::string id;
  auto end = std::chrono::steady_clock::now() + 20s;
  while (id.empty() && std::chrono::steady_clock::now() < end) {
    auto r = in_both({"ls", "--json"});
    auto j = nlohmann::json::parse(r.output.substr(0, r.output.rfind('}') + 1), nullptr, false);
    if (r.status == 0 && j.is_object() && j["total"] == 1)
      id = std::to_string(j["files"][0]["id"].get<int>());
    else
      std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(id, "");
  std::string out = home_.file("bytes.txt");
  auto r = in_both({"get", id, "-o", out, "--no-progress"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("skipping location")));
  EXPECT_EQ(read_file(out), "bytes over https\n");
}

// A server that wants client certificates: dfd --cert/--key (or DFD_CLIENT_CERT/DFD_CLIENT_KEY)
// gets in; without one the connection fails and the message says what to pass.
TEST_F(ClientTls, ClientCertificateForMutualTls) {
  set_http_tls({ca(), pki_->file("client.pem"), pki_->file("client.key")});
  AioHost mtls("mutual\n", "", "kdf_iterations = 1000\n", AioTls{pki_->path(), true, true});
  set_http_tls({ca(), "", ""});
  ASSERT_TRUE(mtls.ready) << mtls.host->log();
  auto login_to = [&](std::vector<std::string> args, std::map<std::string, std::string> env) {
    args.insert(args.begin(), {bin("dfd"), "--server", mtls.base, "--cacert", ca()});
    args.insert(args.end(), {"login", "--email", "admin@example.com", "--password-stdin"});
    for (auto& [k, v] : env_) env.emplace(k, v);
    return run(args, "admin-password-1\n", env);
  };
  auto r = login_to({}, {});
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--cert FILE --key FILE"));
  r = login_to({"--cert", pki_->file("client.pem"), "--key", pki_->file("client.key")}, {});
  EXPECT_EQ(r.status, 0) << r.output;
  r = login_to({}, {{"DFD_CLIENT_CERT", pki_->file("client.pem")},
                    {"DFD_CLIENT_KEY", pki_->file("client.key")}});
  EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
}  // namespace dfd::test
