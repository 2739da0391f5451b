// info-sqlite with the REAL auth-sqlite and broker-local plugins, each loaded from its library
// with its own FakeHost (config), wired the way dfd-host wires them: login → list → manifest →
// the download token is learned by a second auth-sqlite store (a file server's) through the
// broker-local token.issued event and verifies there.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "dfd/events.hpp"
#include "fake_host.hpp"
#include "harness.hpp"
#include "info_doubles.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

template <typename Fn>
bool eventually(Fn fn, std::chrono::milliseconds timeout = 5s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (fn()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return fn();
}

TEST(InfoRealPlugins, LoginListManifestTokenLearnedByAnotherStore) {
  KeepLibrary keep_info("info-sqlite");
  KeepLibrary keep_broker("broker-local");
  ASSERT_TRUE(keep_info.ok() && keep_broker.ok());
  TempDir dir;
  ::setenv("DFD_TEST_INFO_REAL_PW", "admin-password-1", 1);

  FakeHost broker_host({}, "broker-local");
  auto broker_p = load_plugin("broker-local", broker_host);
  ASSERT_TRUE(broker_p.ok()) << broker_p.status().to_string();
  LoadedPlugin broker_lp = std::move(broker_p.value());
  auto* broker = broker_lp.as<Broker>();

  // The info server's store (users + issued tokens) and a file server's store.
  FakeHost auth_host({{"db", dir.file("info-auth.db")}, {"kdf_iterations", std::int64_t(1000)}},
                     "auth-sqlite");
  auto auth_p = load_plugin("auth-sqlite", auth_host);
  ASSERT_TRUE(auth_p.ok()) << auth_p.status().to_string();
  LoadedPlugin auth_lp = std::move(auth_p.value());
  FakeHost fs_auth_host({{"db", dir.file("fs-auth.db")}, {"kdf_iterations", std::int64_t(1000)}},
                        "auth-sqlite");
  auto fs_auth_p = load_plugin("auth-sqlite", fs_auth_host);
  ASSERT_TRUE(fs_auth_p.ok()) << fs_auth_p.status().to_string();
  LoadedPlugin fs_auth_lp = std::move(fs_auth_p.value());
  auto* fs_auth = fs_auth_lp.as<Auth>();

  // What a file server's host does with token events.
  ASSERT_TRUE(broker
                  ->subscribe({"token.*"},
                              [fs_auth](std::string_view key, std::string_view body) -> Status {
                                if (key != events::kTokenIssued) return Status::Ok();
                                auto recs = events::decode_token_issued_batch(body);
                                if (!recs.ok()) return Status::Ok();
                                for (auto& rec : *recs) {
                                  DFD_RETURN_IF_ERROR(fs_auth->remember_download_token(rec));
                                }
                                return Status::Ok();
                              })
                  .ok());

  FakeHost info_host({{"db", dir.file("catalog.db")},
                      {"admin_email", std::string("admin@example.com")},
                      {"admin_password_env", std::string("DFD_TEST_INFO_REAL_PW")}},
                     "info-sqlite");
  info_host.add_plugin(PluginKind::kAuth, "auth-sqlite", auth_lp.get());
  info_host.add_plugin(PluginKind::kBroker, "broker-local", broker_lp.get());
  auto info_p = load_plugin("info-sqlite", info_host);
  ASSERT_TRUE(info_p.ok()) << info_p.status().to_string();
  LoadedPlugin info_lp = std::move(info_p.value());

  auto call = [&](const std::string& method, const std::string& path, const std::string& token,
                  const std::string& body = "", std::map<std::string, std::string> query = {}) {
    HttpRequest q;
    if (!token.empty()) q.headers["authorization"] = "Bearer " + token;
    q.body = body;
    q.query = std::move(query);
    q.peer = "127.0.0.1";
    return info_host.call(method, path, q);
  };

  // A file server announces a file and beats, through the broker.
  events::FileAvailable f;
  f.server_id = "fs-a1";
  f.zone = "zone-a";
  f.url = "http://127.0.0.1:9101";
  f.uid = sha256_hex("hello world");
  f.name = "hello.txt";
  f.size = 11;
  f.alg = "sha256";
  f.chunk_size = 4;
  f.chunks = {sha256_hex("hell"), sha256_hex("o wo"), sha256_hex("rld")};
  ASSERT_TRUE(broker->publish("file.available.fs-a1", events::encode_file_available(f), 1s).ok());
  ASSERT_TRUE(broker
                  ->publish("server.heartbeat.fs-a1",
                            events::encode_heartbeat({"fs-a1", "zone-a", f.url, 2000, 1}), 1s)
                  .ok());

  // Wrong password, then the admin's.
  auto bad = call("POST", "/v1/auth/login", "",
                  json{{"email", "admin@example.com"}, {"password", "nope"}}.dump());
  EXPECT_EQ(bad.status, 401) << bad.body;
  auto login = call("POST", "/v1/auth/login", "",
                    json{{"email", "admin@example.com"}, {"password", "admin-password-1"}}.dump());
  ASSERT_EQ(login.status, 200) << login.body;
  json lj = json::parse(login.body);
  std::string user_token = lj["token"];
  EXPECT_EQ(lj["user"]["role"], "admin");

  // The admin adds a user, who logs in.
  auto created =
      call("POST", "/v1/users", user_token,
           json{{"email", "u@example.com"}, {"name", "U"}, {"password", "user-password"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto dup =
      call("POST", "/v1/users", user_token,
           json{{"email", "u@example.com"}, {"name", "U"}, {"password", "user-password"}}.dump());
  EXPECT_EQ(dup.status, 409) << dup.body;
  auto ulogin = call("POST", "/v1/auth/login", "",
                     json{{"email", "u@example.com"}, {"password", "user-password"}}.dump());
  ASSERT_EQ(ulogin.status, 200) << ulogin.body;
  std::string utoken = json::parse(ulogin.body)["token"];

  // The catalog learns the file from the event (delivered on the broker's thread).
  json list;
  ASSERT_TRUE(eventually([&] {
    auto r = call("GET", "/v1/files", utoken);
    if (r.status != 200) return false;
    list = json::parse(r.body);
    return list["total"] == 1;
  })) << list.dump();
  EXPECT_EQ(list["files"][0]["name"], "hello.txt");
  std::string id = std::to_string(list["files"][0]["id"].get<int>());

  auto man = call("GET", "/v1/files/" + id, utoken, "", {{"zone", "zone-a"}});
  ASSERT_EQ(man.status, 200) << man.body;
  json m = json::parse(man.body);
  std::string dl = m["download_token"];
  EXPECT_EQ(m["locations"][0]["server_id"], "fs-a1");
  EXPECT_EQ(m["chunks"].size(), 3u);
  EXPECT_EQ(auth_lp.as<Auth>()->verify_download_token(dl, f.uid), TokenVerdict::kValid);
  // The file server's store learned it through the token.issued event.
  EXPECT_TRUE(eventually(
      [&] { return fs_auth->verify_download_token(dl, f.uid) == TokenVerdict::kValid; }));
  EXPECT_EQ(fs_auth->verify_download_token(dl, sha256_hex("other")), TokenVerdict::kWrongScope);

  // Logout revokes the user token in the real store.
  EXPECT_EQ(call("POST", "/v1/auth/logout", utoken).status, 204);
  EXPECT_EQ(call("GET", "/v1/files", utoken).status, 401);
  EXPECT_TRUE(info_lp.get()->health().healthy) << info_lp.get()->health().detail;

  info_lp.stop();
  broker_lp.stop();
}

}  // namespace
}  // namespace dfd::test
