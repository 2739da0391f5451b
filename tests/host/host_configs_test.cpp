// `dfd-host --check` must accept every shipped config (configs/*.toml), with its paths pointed at
// a temporary directory through the ${DFD_...} variables the configs use.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "harness.hpp"

namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<std::string> shipped_configs() {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dfd::test::source_dir() + "/configs", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".toml") out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ShippedConfigs, EveryConfigPassesCheck) {
  auto configs = shipped_configs();
  if (configs.empty()) GTEST_SKIP() << "configs/ has no *.toml yet";
  for (const auto& cfg : configs) {
    SCOPED_TRACE(cfg);
    dfd::test::TempDir dir;
    fs::create_directories(dir.file("files"));
    std::map<std::string, std::string> env{
        {"DFD_STATE_DIR", dir.file("state")},
        {"DFD_STORAGE_ROOT", dir.file("files")},
        {"DFD_CONTROL_LISTEN", "127.0.0.1:" + std::to_string(dfd::test::free_port())},
        {"DFD_CONTENT_LISTEN", "127.0.0.1:" + std::to_string(dfd::test::free_port())},
        {"DFD_LOG_LEVEL", "warn"},
        {"DFD_ADMIN_PASSWORD", "check-only-password-1234"},
        {"TMPDIR", dir.path()}};
    auto r = dfd::test::run({dfd::test::bin("dfd-host"), "--config", cfg, "--check"}, "", env);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("config OK"));
  }
}

}  // namespace
