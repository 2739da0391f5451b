// The status page over real HTTP, on a real all-in-one dfd-host (issue 14): /ui and its script
// and style are served with a strict Content-Security-Policy and hold no inline script; the
// page's data routes (GET /v1/status/files, /v1/status/tokens, /v1/status/audit) need a login
// and an admin, check their bounds, and report what the server did (locations, tokens issued,
// manifests from the audit log).
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "aio_host.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

const char* const kDataRoutes[] = {"/v1/status/files", "/v1/status/tokens", "/v1/status/audit"};

json get_json(const AioHost& aio, const std::string& path, const std::string& token,
              long want = 200) {
  auto r = http("GET", aio.base + path, {"Authorization: Bearer " + token});
  EXPECT_EQ(r.status, want) << path << ": " << r.body;
  return json::parse(r.body, nullptr, false);
}

void stop(AioHost& aio) {
  aio.host->signal(SIGTERM);
  EXPECT_EQ(aio.host->wait(15s), 0) << aio.host->log();
}

TEST(StatusHttp, ThePageIsServedWithAStrictPolicyAndNoInlineScript) {
  AioHost aio("hello\n", "");
  ASSERT_TRUE(aio.ready) << aio.host->log();
  struct Want {
    const char* path;
    const char* type;
  };
  for (const Want& w : {Want{"/ui", "text/html"}, Want{"/ui/", "text/html"},
                        Want{"/ui/status.js", "text/javascript"},
                        Want{"/ui/status.css", "text/css"}, Want{"/ui/favicon.png", "image/png"}}) {
    auto r = http("GET", aio.base + w.path, {});
    ASSERT_EQ(r.status, 200) << w.path << ": " << r.body;
    EXPECT_EQ(r.headers["content-type"].rfind(w.type, 0), 0u) << r.headers["content-type"];
    const std::string csp = r.headers["content-security-policy"];
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_EQ(r.headers["x-content-type-options"], "nosniff");
    EXPECT_EQ(r.headers["x-frame-options"], "DENY");
    EXPECT_FALSE(r.body.empty());
  }
  const std::string html = http("GET", aio.base + "/ui", {}).body;
  EXPECT_NE(html.find("<script src=\"/ui/status.js\""), std::string::npos);
  // Every <script> has a src (no inline code), no inline style or event handler attributes.
  EXPECT_FALSE(std::regex_search(html, std::regex("<script(?![^>]*\\ssrc=)[^>]*>")));
  EXPECT_FALSE(std::regex_search(html, std::regex("<style|\\sstyle=|\\son[a-z]+=")));
  // Text from the API goes in as text: no HTML-parsing sink in the script.
  const std::string js = http("GET", aio.base + "/ui/status.js", {}).body;
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function"}) {
    EXPECT_EQ(js.find(sink), std::string::npos) << sink;
  }
  EXPECT_EQ(http("GET", aio.base + "/ui/other.js", {}).status, 404);

  // Without audit_log the audit route says so (and lists nothing).
  const std::string admin = token_of(aio.login(kAioAdmin, kAioAdminPw));
  ASSERT_FALSE(admin.empty());
  json a = get_json(aio, "/v1/status/audit", admin);
  EXPECT_EQ(a["enabled"], false);
  EXPECT_TRUE(a["entries"].empty());
  stop(aio);
}

TEST(StatusHttp, DataRoutesNeedALoginAndAnAdminAndCheckTheirBounds) {
  AioHost aio("hello\n", "audit_log = \"@DIR@audit.log\"\n");
  ASSERT_TRUE(aio.ready) << aio.host->log();
  const std::string admin = token_of(aio.login(kAioAdmin, kAioAdminPw));
  ASSERT_FALSE(admin.empty());
  auto added = http("POST", aio.base + "/v1/users",
                    {"Authorization: Bearer " + admin, "Content-Type: application/json"},
                    json{{"email", "bob@example.com"}, {"password", "bob-password"}}.dump());
  ASSERT_EQ(added.status, 201) << added.body;
  const std::string bob = token_of(aio.login("bob@example.com", "bob-password"));
  ASSERT_FALSE(bob.empty());
  for (const char* route : kDataRoutes) {
    auto r = http("GET", aio.base + route, {});
    EXPECT_EQ(r.status, 401) << route;
    EXPECT_EQ(r.headers["www-authenticate"], "Bearer") << route;
    EXPECT_EQ(http("GET", aio.base + route, {"Authorization: Bearer not-a-token"}).status, 401);
    json denied = get_json(aio, route, bob, 403);
    EXPECT_EQ(denied["error"]["code"], "permission_denied") << route;
    get_json(aio, route, admin, 200);
  }
  for (const char* bad :
       {"/v1/status/files?limit=0", "/v1/status/files?limit=1001", "/v1/status/files?offset=-1",
        "/v1/status/audit?limit=0", "/v1/status/audit?limit=201", "/v1/status/audit?limit=x",
        "/v1/status/audit?event=Manifest", "/v1/status/audit?event=a%3Bb",
        "/v1/status/audit?event=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    json e = get_json(aio, bad, admin, 400);
    EXPECT_EQ(e["error"]["code"], "invalid_argument") << bad;
  }
  get_json(aio, "/v1/status/files?limit=1000", admin, 200);
  get_json(aio, "/v1/status/audit?limit=200&event=login", admin, 200);
  stop(aio);
}

TEST(StatusHttp, ReportsLocationsTokensIssuedAndRecentDownloads) {
  AioHost aio("hello\n", "audit_log = \"@DIR@audit.log\"\n");
  ASSERT_TRUE(aio.ready) << aio.host->log();
  const std::string admin = token_of(aio.login(kAioAdmin, kAioAdminPw));
  ASSERT_FALSE(admin.empty());
  const std::string id = aio.file_id("Authorization: Bearer " + admin);
  ASSERT_FALSE(id.empty()) << aio.host->log();

  json t = get_json(aio, "/v1/status/tokens", admin);
  EXPECT_EQ(t["tokens_issued_total"], 0);
  EXPECT_EQ(t["issued_last_60s"], 0);
  for (const char* zone : {"zone-a", "zone-b", ""}) {
    auto m = http("GET", aio.base + "/v1/files/" + id + "?zone=" + zone,
                  {"Authorization: Bearer " + admin});
    ASSERT_EQ(m.status, 200) << m.body;
  }
  t = get_json(aio, "/v1/status/tokens", admin);
  EXPECT_EQ(t["tokens_issued_total"], 3);
  EXPECT_EQ(t["issued_last_60s"], 3);
  EXPECT_EQ(t["window_s"], 60);
  ASSERT_EQ(t["per_second_series"].size(), 60u);
  std::uint64_t sum = 0;
  for (const auto& v : t["per_second_series"]) sum += v.get<std::uint64_t>();
  EXPECT_EQ(sum, 3u);
  EXPECT_DOUBLE_EQ(t["per_second_60s"].get<double>(), 3.0 / 60.0);

  // The three manifests, newest first, from the audit log (logins are there too, filtered out).
  json a = get_json(aio, "/v1/status/audit?event=manifest", admin);
  EXPECT_EQ(a["enabled"], true);
  ASSERT_EQ(a["entries"].size(), 3u) << a.dump();
  EXPECT_EQ(a["entries"][0]["zone"], "");
  EXPECT_EQ(a["entries"][1]["zone"], "zone-b");
  EXPECT_EQ(a["entries"][2]["zone"], "zone-a");
  EXPECT_EQ(std::to_string(a["entries"][0]["file_id"].get<int>()), id);
  EXPECT_EQ(a["complete"], true);
  EXPECT_EQ(get_json(aio, "/v1/status/audit?event=manifest&limit=2", admin)["entries"].size(), 2u);
  json all = get_json(aio, "/v1/status/audit", admin);
  ASSERT_FALSE(all["entries"].empty());
  EXPECT_EQ(all["entries"].back()["event"], "login");  // the oldest line: the first login

  // The file with its one location (this all-in-one host), live.
  json f = get_json(aio, "/v1/status/files", admin);
  ASSERT_EQ(f["total"], 1);
  ASSERT_EQ(f["files"].size(), 1u);
  EXPECT_EQ(f["files"][0]["name"], "hello.txt");
  EXPECT_EQ(f["files"][0]["available"], true);
  ASSERT_EQ(f["files"][0]["locations"].size(), 1u);
  EXPECT_EQ(f["files"][0]["locations"][0]["server_id"], "aio-1");
  EXPECT_EQ(f["files"][0]["locations"][0]["zone"], "zone-a");
  EXPECT_EQ(f["files"][0]["locations"][0]["healthy"], true);
  EXPECT_EQ(f["files"][0]["locations"][0]["url"], aio.data);
  EXPECT_EQ(get_json(aio, "/v1/status/files?offset=1", admin)["files"].size(), 0u);
  stop(aio);
}

}  // namespace
}  // namespace dfd::test
