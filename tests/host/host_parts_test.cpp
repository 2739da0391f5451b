// Pure pieces of the host: suggestions, the route table, the metrics registry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control_plane.hpp"
#include "metrics.hpp"
#include "route_table.hpp"
#include "suggest.hpp"

namespace dfd::host {
namespace {
using ::testing::HasSubstr;

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("digest-opensl", "digest-openssl"), 1u);
}

TEST(Suggest, ClosestName) {
  std::vector<std::string> names{"digest-openssl", "storage-fs", "auth-sqlite"};
  EXPECT_EQ(closest_name("digest-opensl", names), "digest-openssl");
  EXPECT_EQ(closest_name("storage-fz", names), "storage-fs");
  EXPECT_EQ(closest_name("broker-rabbitmq", names), "");
  EXPECT_EQ(did_you_mean("thread", {"threads", "zone"}), " (did you mean 'threads'?)");
  EXPECT_EQ(did_you_mean("xyz", {"threads"}), "");
}

HttpHandler reply(std::string body) {
  return [body](const HttpRequest&, HttpResponse& r) { r.body = body; };
}

TEST(RouteTable, MatchesParamsAndPrefersLiterals) {
  RouteTable t;
  ASSERT_TRUE(t.add("GET", "/v1/files/:id", reply("param")).ok());
  ASSERT_TRUE(t.add("GET", "/v1/files/special", reply("literal")).ok());
  ASSERT_TRUE(t.add("POST", "/v1/files", reply("post")).ok());
  auto m = t.match("GET", "/v1/files/7");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.pattern, "/v1/files/:id");
  EXPECT_EQ(m.params.at("id"), "7");
  HttpResponse r;
  (*m.handler)(HttpRequest{}, r);
  EXPECT_EQ(r.body, "param");
  m = t.match("GET", "/v1/files/special/");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.pattern, "/v1/files/special");
  m = t.match("GET", "/v1/files");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, std::vector<std::string>{"POST"});
  m = t.match("GET", "/v1/files/a%2Fb%20c");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.params.at("id"), "a/b c");  // params are percent-decoded
  EXPECT_EQ(t.match("GET", "/v2").status, 404);
  EXPECT_EQ(t.match("GET", "/v1/files/7/x").status, 404);
}

TEST(RouteTable, RejectsDuplicatesBadPatternsAndLateRoutes) {
  RouteTable t;
  ASSERT_TRUE(t.add("GET", "/a/:x", reply("")).ok());
  EXPECT_EQ(t.add("GET", "/a/:y", reply("")).code(), Code::kAlreadyExists);
  EXPECT_TRUE(t.add("PUT", "/a/:y", reply("")).ok());
  EXPECT_EQ(t.add("GET", "no-slash", reply("")).code(), Code::kInvalidArgument);
  EXPECT_EQ(t.add("GET", "/b", HttpHandler{}).code(), Code::kInvalidArgument);
  t.freeze();
  EXPECT_EQ(t.add("GET", "/c", reply("")).code(), Code::kFailedPrecondition);
}

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry m;
  m.counter("dfd_test_total", "A counter", {{"route", "/x"}}).add(2);
  m.counter("dfd_test_total", "A counter", {{"route", "/x"}}).add();  // same series
  m.counter("dfd_test_total", "A counter", {{"route", "/y\"q"}}).add(1);
  m.gauge("dfd_test_gauge", "A gauge").set(-1.5);
  auto& h = m.histogram("dfd_test_seconds", "A histogram", {1, 0.1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string t = m.render_prometheus();
  EXPECT_THAT(t, HasSubstr("# HELP dfd_test_total A counter\n# TYPE dfd_test_total counter\n"));
  EXPECT_THAT(t, HasSubstr("dfd_test_total{route=\"/x\"} 3\n"));
  EXPECT_THAT(t, HasSubstr("dfd_test_total{route=\"/y\\\"q\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE dfd_test_gauge gauge\ndfd_test_gauge -1.5\n"));
  EXPECT_THAT(t, HasSubstr("dfd_test_seconds_bucket{le=\"0.1\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("dfd_test_seconds_bucket{le=\"1\"} 2\n"));
  EXPECT_THAT(t, HasSubstr("dfd_test_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_THAT(t, HasSubstr("dfd_test_seconds_sum 5.55\n"));
  EXPECT_THAT(t, HasSubstr("dfd_test_seconds_count 3\n"));
}

TEST(Metrics, TypeClashGetsSeparateFamily) {
  MetricsRegistry m;
  m.counter("dfd_clash", "c").add(1);
  m.gauge("dfd_clash", "g").set(4);
  std::string t = m.render_prometheus();
  EXPECT_THAT(t, HasSubstr("dfd_clash 1\n"));
  EXPECT_THAT(t, HasSubstr("dfd_clash_gauge 4\n"));
}

TEST(PercentDecode, DecodesEscapesAndPlus) {
  EXPECT_EQ(percent_decode("a%20b+c%2Fd%zz%4", true), "a b c/d%zz%4");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
}

}  // namespace
}  // namespace dfd::host
