// Steps 2 and 3: the SDK's conformance suites, run by GoogleTest against CheckInstances, reported
// one line per check by a listener that replaces GoogleTest's printer. This is the one
// translation unit that includes the suites (their TEST_P definitions live in the headers).
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "check_instance.hpp"
#include "dfd/testing/auth_conformance.hpp"
#include "dfd/testing/broker_conformance.hpp"
#include "dfd/testing/digest_conformance.hpp"
#include "dfd/testing/storage_conformance.hpp"

namespace dfd::plugin_check {
namespace {
namespace fs = std::filesystem;

// The run's plan, set before RUN_ALL_TESTS() (the factories below are called by the suites).
const CheckPlan* g_plan = nullptr;

// The conformance files in DFD_CHECK_ROOT, "x" and "b" next to it, and ".dfd-check-files" (the
// list of the conformance paths, one a line: for backends that serve an explicit list, e.g.
// storage-example's `manifest`). Every mtime is an hour old, so that no backend waits for the
// files to settle (storage-fs's settle_ms).
Status write_storage_files(const CheckDirs& dirs,
                           const std::vector<conformance::ConformanceFile>& files) {
  std::vector<std::pair<std::string, std::string>> out = {{dirs.base + "/x", "outside\n"},
                                                          {dirs.base + "/b", "outside\n"}};
  std::string list;
  for (const auto& f : files) {
    out.emplace_back(dirs.root + "/" + f.path, f.content);
    list += f.path + "\n";
  }
  out.emplace_back(dirs.root + "/.dfd-check-files", list);
  const struct timespec times[2] = {{::time(nullptr) - 3600, 0}, {::time(nullptr) - 3600, 0}};
  for (const auto& [path, content] : out) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    std::ofstream o(path, std::ios::binary | std::ios::trunc);
    o << content;
    o.close();
    if (!o || ::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
      return Status::IoError("cannot write the conformance file '" + path + "'");
    }
  }
  return Status::Ok();
}

// Opens a CheckInstance, failing the current check (nullptr) when it cannot be had.
std::unique_ptr<CheckInstance> open_instance(
    const std::function<Status(const CheckDirs&)>& prepare = {}) {
  auto c = CheckInstance::open(*g_plan, prepare);
  if (!c.ok()) {
    ADD_FAILURE() << c.status().message();
    return nullptr;
  }
  return std::move(c).value();
}

conformance::StorageUnderTest make_storage(const std::vector<conformance::ConformanceFile>& files) {
  std::shared_ptr<CheckInstance> c =
      open_instance([&](const CheckDirs& d) { return write_storage_files(d, files); });
  if (!c) return {};
  return {static_cast<Storage*>(c->plugin()), c};
}

class AuthSubject final : public conformance::AuthSubject {
 public:
  explicit AuthSubject(std::unique_ptr<CheckInstance> c) : c_(std::move(c)) {}
  Auth& auth() override { return *static_cast<Auth*>(c_->plugin()); }
  void advance(std::chrono::milliseconds d) override { c_->advance(d); }

 private:
  std::unique_ptr<CheckInstance> c_;
};

class BrokerSubject final : public conformance::BrokerSubject {
 public:
  explicit BrokerSubject(std::unique_ptr<CheckInstance> c) : c_(std::move(c)) {}
  Broker& broker() override { return *static_cast<Broker*>(c_->plugin()); }
  void stop() override { c_->stop(); }

 private:
  std::unique_ptr<CheckInstance> c_;
};

class DigestSubject final : public conformance::DigestSubject {
 public:
  explicit DigestSubject(std::unique_ptr<CheckInstance> c) : c_(std::move(c)) {}
  Digest& digest() override { return *static_cast<Digest*>(c_->plugin()); }

 private:
  std::unique_ptr<CheckInstance> c_;
};

template <typename Subject, typename Base>
std::unique_ptr<Base> make_subject() {
  auto c = open_instance();
  if (!c) return nullptr;
  return std::make_unique<Subject>(std::move(c));
}

// The GoogleTest suite of each kind, as instantiated below.
const char* suite_of(PluginKind kind) {
  switch (kind) {
    case PluginKind::kStorage:
      return "Check/DfdStorageConformance";
    case PluginKind::kAuth:
      return "Check/AuthConformance";
    case PluginKind::kBroker:
      return "Check/BrokerConformance";
    case PluginKind::kDigest:
      return "Check/DigestConformance";
    case PluginKind::kInfo:
      break;
  }
  return "";
}

// "ReadAtPositions/plugin" → "ReadAtPositions".
std::string check_name(const ::testing::TestInfo& t) {
  std::string n = t.name();
  return n.substr(0, n.find('/'));
}

// The checks of `kind` whose name contains `filter`: (check name, GoogleTest full name).
std::vector<std::pair<std::string, std::string>> select_checks(PluginKind kind,
                                                               const std::string& filter) {
  std::vector<std::pair<std::string, std::string>> out;
  auto* unit = ::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit->total_test_suite_count(); ++i) {
    const ::testing::TestSuite* s = unit->GetTestSuite(i);
    if (std::string(s->name()) != suite_of(kind)) continue;
    for (int j = 0; j < s->total_test_count(); ++j) {
      const ::testing::TestInfo* t = s->GetTestInfo(j);
      std::string name = check_name(*t);
      if (name.find(filter) == std::string::npos) continue;
      out.emplace_back(name, std::string(s->name()) + "." + t->name());
    }
  }
  return out;
}

// One line, at most ~300 characters: whitespace runs (newlines too) become one space. For
// EXPECT_TRUE(x) << why, only `why` (GoogleTest's "Value of: x / Actual: false / Expected: true"
// says less than the suite's own words).
std::string one_line(const std::string& message) {
  std::string m = message;
  for (const char* boolean : {"\nExpected: true\n", "\nExpected: false\n"}) {
    std::size_t at = m.compare(0, 10, "Value of: ") == 0 ? m.find(boolean) : std::string::npos;
    if (at != std::string::npos && at + std::strlen(boolean) < m.size()) {
      m = m.substr(at + std::strlen(boolean));
    }
  }
  std::string o;
  for (char c : m) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space) {
      if (!o.empty() && o.back() != ' ') o += ' ';
    } else {
      o += c;
    }
  }
  while (!o.empty() && o.back() == ' ') o.pop_back();
  if (o.size() > 300) o = o.substr(0, 297) + "...";
  return o;
}

// Prints PASS / FAIL / SKIP per check and counts them.
class CheckPrinter final : public ::testing::EmptyTestEventListener {
 public:
  int passed = 0, failed = 0, skipped = 0;

  void OnTestStart(const ::testing::TestInfo&) override {
    first_failure_.clear();
    skip_reason_.clear();
  }
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.failed() && first_failure_.empty()) {
      first_failure_ = one_line(r.message());
      if (first_failure_.empty()) first_failure_ = "failed";
    } else if (r.skipped() && skip_reason_.empty()) {
      skip_reason_ = one_line(r.message());
    }
  }
  void OnTestEnd(const ::testing::TestInfo& t) override {
    const std::string name = check_name(t);
    if (t.result()->Failed()) {
      ++failed;
      std::printf("FAIL %s: %s\n", name.c_str(), first_failure_.c_str());
    } else if (t.result()->Skipped()) {
      ++skipped;
      std::printf("SKIP %s: %s\n", name.c_str(),
                  skip_reason_.empty() ? "skipped" : skip_reason_.c_str());
    } else {
      ++passed;
      std::printf("PASS %s\n", name.c_str());
    }
    std::fflush(stdout);
  }

 private:
  std::string first_failure_, skip_reason_;
};

// GoogleTest reads only our own flags: no command line, no GTEST_* surprises.
void init_gtest() {
  static bool done = false;
  if (done) return;
  done = true;
  int argc = 1;
  char arg0[] = "dfd-plugin-check";
  char* argv[] = {arg0, nullptr};
  ::testing::InitGoogleTest(&argc, argv);
  GTEST_FLAG_SET(shuffle, false);
  GTEST_FLAG_SET(repeat, 1);
  GTEST_FLAG_SET(also_run_disabled_tests, false);
  GTEST_FLAG_SET(break_on_failure, false);
  GTEST_FLAG_SET(throw_on_failure, false);
  GTEST_FLAG_SET(output, "");
}

// What the trial load puts in the check dirs: the storage files for a storage plugin.
Status prepare_trial(const CheckPlan& plan, const CheckDirs& dirs) {
  if (plan.kind != PluginKind::kStorage) return Status::Ok();
  return write_storage_files(dirs, conformance::storage_conformance_files());
}

}  // namespace
}  // namespace dfd::plugin_check

using dfd::plugin_check::make_storage;
using dfd::plugin_check::make_subject;

DFD_STORAGE_CONFORMANCE(Check, make_storage);
INSTANTIATE_TEST_SUITE_P(
    Check, AuthConformance,
    ::testing::Values(dfd::conformance::AuthCase{
        "plugin", &make_subject<dfd::plugin_check::AuthSubject, dfd::conformance::AuthSubject>}),
    dfd::conformance::AuthCaseName());
INSTANTIATE_TEST_SUITE_P(
    Check, BrokerConformance,
    ::testing::Values(dfd::conformance::BrokerCase{
        "plugin",
        &make_subject<dfd::plugin_check::BrokerSubject, dfd::conformance::BrokerSubject>}),
    dfd::conformance::BrokerCaseName());
INSTANTIATE_TEST_SUITE_P(
    Check, DigestConformance,
    ::testing::Values(dfd::conformance::DigestCase{
        "plugin",
        &make_subject<dfd::plugin_check::DigestSubject, dfd::conformance::DigestSubject>}),
    dfd::conformance::DigestCaseName());

namespace dfd::plugin_check {

int list_checks(PluginKind kind, const std::string& filter) {
  init_gtest();
  for (const auto& c : select_checks(kind, filter)) std::printf("%s\n", c.first.c_str());
  return kExitPassed;
}

int run_checks(const CheckPlan& plan, const Options& options) {
  g_plan = &plan;
  {
    // The trial: a config or start error is a refusal (exit 2), not a failed check.
    auto trial =
        CheckInstance::open(plan, [&](const CheckDirs& d) { return prepare_trial(plan, d); });
    if (!trial.ok()) {
      std::fprintf(stderr, "dfd-plugin-check: %s\n", trial.status().message().c_str());
      return kExitRefused;
    }
  }
  init_gtest();
  auto checks = select_checks(plan.kind, options.filter);
  if (checks.empty()) {
    std::fprintf(stderr, "dfd-plugin-check: no %s check contains '%s' (see --list)\n",
                 kind_name(plan.kind), options.filter.c_str());
    return kExitRefused;
  }
  std::string filter;
  for (const auto& c : checks) filter += (filter.empty() ? "" : ":") + c.second;
  GTEST_FLAG_SET(filter, filter);

  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  delete listeners.Release(listeners.default_result_printer());
  auto* printer = new CheckPrinter;  // owned by `listeners`
  listeners.Append(printer);
  int rc = RUN_ALL_TESTS();
  std::printf("%d checks: %d passed, %d failed, %d skipped\n",
              printer->passed + printer->failed + printer->skipped, printer->passed,
              printer->failed, printer->skipped);
  std::fflush(stdout);
  return printer->failed == 0 && rc == 0 ? kExitPassed : kExitFailed;
}

}  // namespace dfd::plugin_check
