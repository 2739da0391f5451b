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
// tests/info's auth plugin of ABI minor 1.
const std::string kAuthMinor1Dir = DFD_TEST_AUTH_MINOR1_DIR;

// "2.4"
std::string abi(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}
const std::string kHostAbi = abi(dfd::kAbiMajor, dfd::kAbiMinor);

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct CheckRun {
  int status;
  std::string output;
  std::string config;
};

// Writes a config listing `plugins` (each "name" or "name\nkey = value") and runs --check.
// `also_in`: a second plugin_path directory.
CheckRun check(const dfd::test::TempDir& dir, const std::vector<std::string>& plugins,
               const std::string& also_in = "") {
  std::string cfg = "plugin_path = [\"" + kBrokenDir + "\"" +
                    (also_in.empty() ? std::string() : ", \"" + also_in + "\"") +
                    "]\n\n[server]\nid = \"broken\"\n" + "state_dir = \"" + dir.file("state") +
                    "\"\n";
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

// Issue 15: another major is refused by the loader (the one home of this message, which
// dfd-plugin-check shows too), naming both versions: "built for plugin ABI 3.0, this host has
// ABI 2.4".
TEST(BrokenPlugins, AbiMajorMismatch) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-abi\""});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(r.config + ":7: [[plugin]] 'broken-abi': " + kBrokenDir +
                                  "/libdfd-broken-abi.so: built for plugin ABI " +
                                  abi(dfd::kAbiMajor + 1, 0) + ", this host has ABI " + kHostAbi +
                                  " (rebuild it against this host's SDK)"));
  EXPECT_THAT(r.output, Not(HasSubstr("config OK")));
}

TEST(BrokenPlugins, WrongBuildSignature) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-signature\""});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("libdfd-broken-signature.so: build signature "
                                  "'gcc-0.0;cxx11abi=0;boost=0', host has '" +
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

// Issue 15: same major, any minor. A newer minor loads (its appended field is not read).
TEST(BrokenPlugins, NewerMinorWithAppendedFieldLoads) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-newer-minor\""});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr("built for plugin ABI " + abi(dfd::kAbiMajor, dfd::kAbiMinor + 5) +
                        ", newer than this host's ABI " + kHostAbi));
  EXPECT_THAT(r.output, Not(HasSubstr("lacks")));
  EXPECT_THAT(r.output, HasSubstr("config OK"));
}

// An auth plugin built against minor 1 (descriptor ends at `destroy`) loads; what it lacks is
// logged once at load (warn) and listed by --check, each ability with the minor that added it.
TEST(BrokenPlugins, AuthOfMinor1LoadsAndItsMissingAbilitiesAreReported) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"test-auth-minor1\""}, kAuthMinor1Dir);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("config OK"));
  const std::string lacks_list =
      "ABI " + abi(dfd::kAbiMajor, 2) + " added Auth::list_users, count_users, set_password";
  const std::string lacks_check =
      "ABI " + abi(dfd::kAbiMajor, 3) + " added PluginDescriptor::check";
  // The log line at load: the plugin, its file, both ABIs, each missing ability.
  const std::string logged = "plugin 'test-auth-minor1' (" + kAuthMinor1Dir +
                             "/libdfd-test-auth-minor1.so): built for plugin ABI " +
                             abi(dfd::kAbiMajor, 1) + ", this host has ABI " + kHostAbi +
                             "; it lacks: " + lacks_list + "; " + lacks_check;
  EXPECT_THAT(r.output, HasSubstr("warning [dfd-host] " + logged));
  EXPECT_EQ(count(r.output, logged), 1u) << r.output;
  // The --check listing.
  EXPECT_THAT(r.output, HasSubstr("\n  built for plugin ABI " + abi(dfd::kAbiMajor, 1) +
                                  ", this host has ABI " + kHostAbi + "\n  lacks: " + lacks_list +
                                  "\n  lacks: " + lacks_check));
  // Not what minor 1 itself added, nor another kind's abilities.
  EXPECT_THAT(r.output, Not(HasSubstr("find_user_by_id")));
  EXPECT_THAT(r.output, Not(HasSubstr("Storage::known_digests")));
}

TEST(BrokenPlugins, StorageOfMinor3LacksKnownDigests) {
  dfd::test::TempDir dir;
  auto r = check(dir, {"broken-storage-minor3\""});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("config OK"));
  EXPECT_THAT(r.output, HasSubstr("\n  lacks: ABI " + abi(dfd::kAbiMajor, 4) +
                                  " added Storage::known_digests"));
  EXPECT_THAT(r.output, Not(HasSubstr("PluginDescriptor::check")));
  EXPECT_THAT(r.output, Not(HasSubstr("Auth::")));
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
