// test-info: a test-only info-kind plugin for the host's integration tests. Routes:
//   GET  /test/slow?ms=N      logs "slow request started", sleeps N ms, answers {"slept_ms": N}
//   GET|POST /test/echo/:id   answers what the host handed it (params, query, headers, body)
// Config: healthy (bool), detail (string), fail_start (bool), healthy_file (string: when set, the
// plugin is healthy only while that file exists; issue 14's readiness test creates it).
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "dfd/digest.hpp"
#include "dfd/info.hpp"

namespace {

class TestInfo final : public dfd::Info {
 public:
  explicit TestInfo(dfd::HostServices& host) : host_(host) {}

  dfd::Status init() {
    DFD_RETURN_IF_ERROR(
        host_.config().allow_only({"healthy", "detail", "fail_start", "healthy_file"}));
    auto healthy = host_.config().bool_or("healthy", true);
    if (!healthy.ok()) return healthy.status();
    healthy_ = *healthy;
    auto detail = host_.config().string_or("detail", "fine");
    if (!detail.ok()) return detail.status();
    detail_ = *detail;
    auto fail = host_.config().bool_or("fail_start", false);
    if (!fail.ok()) return fail.status();
    fail_start_ = *fail;
    auto healthy_file = host_.config().string_or("healthy_file", "");
    if (!healthy_file.ok()) return healthy_file.status();
    healthy_file_ = *healthy_file;
    return dfd::Status::Ok();
  }

  dfd::Status start() noexcept override {
    return dfd::guard("test-info start", [&]() -> dfd::Status {
      if (fail_start_) return dfd::Status::Unavailable("told to fail at start");
      if (!host_.find<dfd::Digest>()) return dfd::Status::FailedPrecondition("no digest plugin");
      auto& slow_total = host_.metrics().counter("dfd_test_info_slow_total", "Slow requests");
      DFD_RETURN_IF_ERROR(host_.http().add(
          "GET", "/test/slow",
          [this, &slow_total](const dfd::HttpRequest& req, dfd::HttpResponse& r) {
            int ms = std::stoi(req.query.count("ms") ? req.query.at("ms") : std::string("100"));
            host_.logger().info("slow request started");
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            slow_total.add();
            r.body = nlohmann::json{{"slept_ms", ms}}.dump();
          }));
      auto echo = [this](const dfd::HttpRequest& req, dfd::HttpResponse& r) {
        nlohmann::json j{{"method", req.method}, {"path", req.path},       {"params", req.params},
                         {"query", req.query},   {"headers", req.headers}, {"body", req.body},
                         {"peer", req.peer},     {"bearer", req.bearer()}};
        if (req.query.count("status")) r.status = std::stoi(req.query.at("status"));
        r.headers.emplace_back("X-Test-Reply", "yes");
        r.headers.emplace_back("Retry-After", "7");
        r.body = j.dump();
      };
      DFD_RETURN_IF_ERROR(host_.http().add("GET", "/test/echo/:id", echo));
      DFD_RETURN_IF_ERROR(host_.http().add("POST", "/test/echo/:id", echo));
      DFD_RETURN_IF_ERROR(
          host_.http().add("GET", "/test/throw", [](const dfd::HttpRequest&, dfd::HttpResponse&) {
            throw std::runtime_error("handler failure");
          }));
      host_.logger().info("test-info started on server " + host_.server().id);
      return dfd::Status::Ok();
    });
  }

  void stop() noexcept override { host_.logger().info("test-info stopped"); }

  dfd::Health health() const noexcept override {
    struct stat st;
    if (!healthy_file_.empty() && ::stat(healthy_file_.c_str(), &st) != 0) {
      return {false, "waiting for " + healthy_file_};
    }
    return {healthy_, detail_};
  }

 private:
  dfd::HostServices& host_;
  bool healthy_ = true;
  bool fail_start_ = false;
  std::string detail_;
  std::string healthy_file_;
};

const dfd::PluginKind kNeeds[] = {dfd::PluginKind::kDigest};

}  // namespace

DFD_PLUGIN(dfd::PluginKind::kInfo, "test-info", "0.0.1", "test-only routes for host tests", kNeeds,
           1, &dfd::create_plugin<TestInfo>, &dfd::destroy_plugin<TestInfo>)
