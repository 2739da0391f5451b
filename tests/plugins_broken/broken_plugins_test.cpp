// Each tiny broken plugin breaks one loader rule; the real `dfd-host --check` must refuse it with
// the message a user sees (naming the library file and both values) and a non-zero exit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "dfd/plugin.hpp"
#include "harness.hpp"

namespace {
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBrokenDir = DFD_BROKEN_PLUGIN_DIR;

struct CheckRun {
  int status;
  std::string output;
  std::string config;
};

// Writes a config listing `plugins` (each "name" or "name\nkey = value") and runs --check.
CheckRun check(const dfd::test::TempDir& dir, const std::vector<std::string>& plugins) {
  std::string cfg = "plugin_path = [\"" + kBrokenDir + "\"]\n\n[server]\nid = \"broken\"\n" +
                    "state_dir = \"" + dir.file("state") + "\"\n";
  for (const auto& p : plugins) cfg += "\n[[plugin]]\nname = \"" + p + "\n";
  std::string path = dir.file("cfg.toml");
  dfd::test::write_file(path, cfg);
  auto r = dfd::test::run({dfd::test::bin("dfd-host"), "--config", path, "--check"});
  return {r.status, r.output, path};
}

TEST(BrokenPlugins, NoEntrySymbol) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-noentry\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr(r.config + ":7: [[plugin]] 'broken-noentry': " + kBrokenDir +
                                  "/libdfd-broken-noentry.so: no entry symbol 'dfd_plugin_entry'"));
  EXPECT_THAT(r.output, Not(HasSubstr("config OK")));
}

TEST(BrokenPlugins, AbiMajorMismatch) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-abi\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("libdfd-broken-abi.so: ABI major 99, host expects " +
                                  std::to_string(dfd::kAbiMajor)));
}

TEST(BrokenPlugins, WrongBuildSignature) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-signature\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("libdfd-broken-signature.so: build signature "
                                  "'gcc-0.0;cxx11abi=0;boost=0;sdk=1', host has '" +
                                  std::string(dfd::kBuildSignature) + "'"));
}

TEST(BrokenPlugins, DescriptorTooSmall) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-size\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("libdfd-broken-size.so: descriptor size 16, host needs at "
                                  "least " +
                                  std::to_string(dfd::kDescriptorMinSize)));
}

TEST(BrokenPlugins, DescriptorNameDiffersFromFile) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-name\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("libdfd-broken-name.so: descriptor name 'something-else', "
                                  "expected 'broken-name'"));
}

TEST(BrokenPlugins, CreateFailsWithStatus) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-create\"\nanswer = 41"});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output,
              HasSubstr("libdfd-broken-create.so: create failed: invalid_argument: " + r.config +
                        ":9: [[plugin]] broken-create: key 'answer': must be 42"));
}

TEST(BrokenPlugins, CreateSucceedsWithGoodConfig) {
  // The same plugin with the value it wants: proves the failure above is the config's.
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-create\"\nanswer = 42"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("broken-create"));
  EXPECT_THAT(r.output, HasSubstr("config OK"));
}

// Issue 14: the descriptor's `check` (ABI minor 3) runs in --check, after every create(), with
// file:line:key in its refusal; a plugin built before minor 3 has none and is still accepted.
TEST(BrokenPlugins, CheckRefusesWithFileLineAndKey) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-check\"\npartner = \"digest-opensll\"", "digest-openssl\""});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr("libdfd-broken-check.so: check failed: invalid_argument: " + r.config +
                        ":9: [[plugin]] broken-check: key 'partner': no digest plugin "
                        "named 'digest-opensll' is listed"));
  EXPECT_THAT(r.output, Not(HasSubstr("config OK")));
}

TEST(BrokenPlugins, CheckSeesPluginsListedAfterIt) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-check\"\npartner = \"digest-openssl\"", "digest-openssl\""});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("config OK"));
}

TEST(BrokenPlugins, DescriptorOfMinor2WithoutCheckIsAccepted) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-old-minor\""});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("broken-old-minor"));
  EXPECT_THAT(r.output, HasSubstr("config OK"));
}

TEST(BrokenPlugins, CreateRejectsUnknownKeyWithSuggestion) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-create\"\nanswr = 42"});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr(":9: [[plugin]] broken-create: unknown key 'answr' (did you "
                                  "mean 'answer'?)"));
}

TEST(BrokenPlugins, DuplicateName) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"digest-openssl\"", "digest-openssl\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr(r.config +
                                  ":10: [[plugin]] 'digest-openssl' is listed twice "
                                  "(first at " +
                                  r.config + ":7)"));
}

TEST(BrokenPlugins, MissingDependency) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-needs-auth\"", "digest-openssl\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output,
              HasSubstr("libdfd-broken-needs-auth.so: requires a plugin of kind 'auth', but none "
                        "is listed (listed: broken-needs-auth (storage), digest-openssl "
                        "(digest))"));
}

TEST(BrokenPlugins, NameTypoSuggestsClosest) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"digest-opensl\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr(r.config +
                                  ":7: unknown plugin 'digest-opensl' (no "
                                  "libdfd-digest-opensl.so in: " +
                                  kBrokenDir + ", " + dfd::test::plugin_dir()));
  EXPECT_THAT(r.output, HasSubstr("); did you mean 'digest-openssl'?"));
}

TEST(BrokenPlugins, FarOffNameHasNoSuggestion) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"zzzzzzzzzzzzzzzz\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("unknown plugin 'zzzzzzzzzzzzzzzz'"));
  EXPECT_THAT(r.output, Not(HasSubstr("did you mean")));
}

}  // namespace
