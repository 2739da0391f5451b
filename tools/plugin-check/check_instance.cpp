#include "check_instance.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "logging.hpp"

namespace dfd::plugin_check {
namespace fs = std::filesystem;

namespace {

Result<CheckDirs> make_dirs() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/dfd-plugin-check-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return Status::IoError("cannot make a temp dir from '" + templ + "': " + std::strerror(errno));
  }
  CheckDirs d{templ, templ + "/scratch", templ + "/root"};
  std::error_code ec;
  for (const std::string& sub : {d.scratch, d.root, d.base + "/state"}) {
    if (!fs::create_directory(sub, ec)) {
      fs::remove_all(d.base, ec);
      return Status::IoError("cannot make '" + sub + "': " + ec.message());
    }
  }
  return d;
}

}  // namespace

CheckInstance::CheckInstance(const CheckPlan& plan)
    : identity_{kGeneratedConfigName, "default", "http://127.0.0.1:0", ""},
      shared_{metrics_, clock_, identity_, routes_, plan.log_level} {}

Result<std::unique_ptr<CheckInstance>> CheckInstance::open(
    const CheckPlan& plan, const std::function<Status(const CheckDirs&)>& prepare, bool start) {
  auto dirs = make_dirs();
  if (!dirs.ok()) return dirs.status();
  std::unique_ptr<CheckInstance> c(new CheckInstance(plan));
  c->dirs_ = *dirs;
  c->identity_.state_dir = c->dirs_.base + "/state";
  // Unique per check and run: a broker's default queue is named after the server id, so checks
  // do not see each other's events; ${DFD_CHECK_ID} lets a config name its exchange the same way.
  static int serial = 0;
  const std::string id = std::to_string(::getpid()) + "-" + std::to_string(++serial);
  c->identity_.id = std::string(kGeneratedConfigName) + "-" + id;
  ::setenv("DFD_CHECK_ID", id.c_str(), 1);
  ::setenv("DFD_CHECK_DIR", c->dirs_.scratch.c_str(), 1);
  ::setenv("DFD_CHECK_ROOT", c->dirs_.root.c_str(), 1);
  if (prepare) DFD_RETURN_IF_ERROR(prepare(c->dirs_));
  auto cfg = compose_config(plan);
  if (!cfg.ok()) return cfg.status();
  c->plugins_ = std::make_unique<host::PluginSet>(
      c->shared_, host::make_logger(kGeneratedConfigName, plan.log_level));
  Status st = c->plugins_->load(*cfg);
  if (st.ok()) st = c->plugins_->check_all(*cfg);
  if (st.ok() && start) st = c->plugins_->start_all();
  if (!st.ok()) return Status(st.code(), loader_message(plan, st));
  c->plugin_ = c->plugins_->find(plan.kind, plan.name);
  if (c->plugin_ == nullptr) return Status::Internal("the loaded set has no '" + plan.name + "'");
  return c;
}

CheckInstance::~CheckInstance() {
  if (plugins_) {
    plugins_->stop_all();
    routes_.clear();  // handlers are code of the plugin libraries
    plugins_->unload();
    plugins_.reset();
  }
  std::error_code ec;
  fs::remove_all(dirs_.base, ec);
  for (const char* var : {"DFD_CHECK_ID", "DFD_CHECK_DIR", "DFD_CHECK_ROOT"}) ::unsetenv(var);
}

}  // namespace dfd::plugin_check
