// One check's world: a fresh temp dir, DFD_CHECK_DIR, DFD_CHECK_ROOT and DFD_CHECK_ID (PID-N,
// unique per check; the server id is dfd-plugin-check-PID-N) exported, the composed
// host config loaded, checked and started through the host's PluginSet, and all of it undone by
// the destructor (stop, unload, remove the dir, unset the variables).
//
// Layout of the temp dir (BASE = $TMPDIR/dfd-plugin-check-XXXXXX):
//   BASE/scratch   DFD_CHECK_DIR: scratch for databases, key files
//   BASE/root      DFD_CHECK_ROOT: the storage conformance files (storage; empty otherwise)
//   BASE/x, BASE/b the "outside" files, so that "../x" would name a real file if followed
//   BASE/state     the ServerIdentity's state_dir
//
// Thread-safety: main thread only (the suites call the plugin from their own threads, which is
// the plugin's business); one instance at a time, since the variables are process-wide.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "metrics.hpp"
#include "plugin_check.hpp"
#include "plugin_loader.hpp"
#include "route_table.hpp"

namespace dfd::plugin_check {

// The wall and steady clocks plus an offset that the auth suite moves forward (advance()).
class AdvancingClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const noexcept override {
    return std::chrono::system_clock::now() + offset();
  }
  std::chrono::steady_clock::time_point steady_now() const noexcept override {
    return std::chrono::steady_clock::now() + offset();
  }
  void advance(std::chrono::milliseconds d) noexcept { offset_ms_ += d.count(); }

 private:
  std::chrono::milliseconds offset() const noexcept {
    return std::chrono::milliseconds(offset_ms_.load());
  }
  std::atomic<std::int64_t> offset_ms_{0};
};

// The directories of one check.
struct CheckDirs {
  std::string base;
  std::string scratch;  // DFD_CHECK_DIR
  std::string root;     // DFD_CHECK_ROOT
};

class CheckInstance {
 public:
  // Fills the dirs with `prepare` (may be empty), exports the variables, composes the config,
  // loads, checks and (when `start`) starts. Errors carry the loader's message.
  static Result<std::unique_ptr<CheckInstance>> open(
      const CheckPlan& plan, const std::function<Status(const CheckDirs&)>& prepare,
      bool start = true);
  ~CheckInstance();
  CheckInstance(const CheckInstance&) = delete;
  CheckInstance& operator=(const CheckInstance&) = delete;

  // The plugin under check (started).
  Plugin* plugin() const noexcept { return plugin_; }
  // Stops every plugin (reverse start order); idempotent.
  void stop() noexcept { plugins_->stop_all(); }
  void advance(std::chrono::milliseconds d) noexcept { clock_.advance(d); }
  const CheckDirs& dirs() const noexcept { return dirs_; }

 private:
  explicit CheckInstance(const CheckPlan& plan);

  CheckDirs dirs_;
  AdvancingClock clock_;
  host::MetricsRegistry metrics_;
  host::RouteTable routes_;
  ServerIdentity identity_;
  host::SharedServices shared_;
  std::unique_ptr<host::PluginSet> plugins_;
  Plugin* plugin_ = nullptr;
};

}  // namespace dfd::plugin_check
