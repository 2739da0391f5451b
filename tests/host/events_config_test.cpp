// [events] on the real dfd-host (docs/host.md "[events]"): what a host refuses at start (through
// `--check`, which loads and creates every plugin but starts none), and `dfd-host keygen`.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.hpp"

namespace {
using ::testing::HasSubstr;
using ::testing::Not;
namespace t = dfd::test;

// A host with broker-rabbitmq (never started: --check) and `events` as its [events] table.
t::RunResult check(const t::TempDir& dir, const std::string& events,
                   const std::string& broker = "broker-rabbitmq") {
  std::string cfg = "[server]\nid = \"fs-a\"\nstate_dir = \"" + dir.file("state") + "\"\n\n" +
                    events + "\n[[plugin]]\nname = \"" + broker + "\"\n" +
                    (broker == "broker-rabbitmq" ? "url = \"amqp://guest@127.0.0.1:1/\"\n" : "");
  t::write_file(dir.file("host.toml"), cfg);
  return t::run({t::bin("dfd-host"), "--config", dir.file("host.toml"), "--check"});
}

std::string keys(const t::TempDir& dir) {
  auto k = t::event_keys(dir.file("keys"), "fileserver", "fs-a");
  EXPECT_EQ(k.status, 0) << k.output;
  return "[events]\nsigning_key = \"" + dir.file("keys/fs-a.key") + "\"\ntrusted_keys = \"" +
         dir.file("keys/trusted-by-fs") + "\"\n";
}

TEST(EventsConfig, ABrokerBetweenHostsWithoutKeysIsRefusedUnlessAllowed) {
  t::TempDir dir;
  auto r = check(dir, "");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("host.toml:"));
  EXPECT_THAT(r.output, HasSubstr("[events]"));
  EXPECT_THAT(r.output, HasSubstr("dfd-host keygen"));
  r = check(dir, "[events]\nallow_unsigned = true\n");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("UNSIGNED"));
  // One process: broker-local needs no keys.
  r = check(dir, "", "broker-local");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[events] in-process"));
}

TEST(EventsConfig, KeysAreCheckedAtStartWithFileLineAndKey) {
  t::TempDir dir;
  const std::string good = keys(dir);
  auto r = check(dir, good);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[events] signed as 'fs-a' (key "));

  ::chmod(dir.file("keys/fs-a.key").c_str(), 0640);
  r = check(dir, good);
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("host.toml:6: [events] key 'signing_key': "));
  EXPECT_THAT(r.output, HasSubstr("0640"));
  EXPECT_THAT(r.output, Not(HasSubstr("PRIVATE KEY")));
  ::chmod(dir.file("keys/fs-a.key").c_str(), 0600);

  r = check(dir, "[events]\ntrusted_keys = \"" + dir.file("keys/trusted-by-fs") + "\"\n");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("[events] key 'signing_key': missing"));
  r = check(dir, "[events]\nsigning_key = \"" + dir.file("keys/fs-a.key") + "\"\n");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("[events] key 'trusted_keys': missing"));
  r = check(dir, good + "trusted_keys_x = 1\n");
  EXPECT_THAT(r.output, HasSubstr("[events]: unknown key 'trusted_keys_x'"));
  r = check(dir, good + "allow_unsigned = true\n");
  EXPECT_THAT(r.output, HasSubstr("[events] key 'allow_unsigned'"));
  r = check(dir, good + "max_age_s = 1\n");
  EXPECT_THAT(r.output, HasSubstr("[events] key 'max_age_s': 1 is out of range"));
  r = check(dir, "[events]\nsigning_key = \"" + dir.file("keys/fs-a.key") +
                     "\"\ntrusted_keys = \"" + dir.file("nowhere") + "\"\n");
  EXPECT_THAT(r.output, HasSubstr("host.toml:7: [events] key 'trusted_keys': "));
  // A .pub that is not a key is named.
  t::write_file(dir.file("keys/trusted-by-fs/info.pub"), "not a key\n");
  r = check(dir, good);
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("info.pub"));
}

TEST(EventsConfig, KeygenWritesAnOwnerOnlyKeyAndNeverOverwritesOne) {
  t::TempDir dir;
  auto r = t::run({t::bin("dfd-host"), "keygen", "--out", dir.file("k"), "--name", "fs-a"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.substr(0, 16).find_first_not_of("0123456789abcdef"), std::string::npos)
      << r.output;
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("k/fs-a.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.file("k/fs-a.pub").c_str(), &st), 0);
  const std::string key = t::read_file(dir.file("k/fs-a.key"));
  r = t::run({t::bin("dfd-host"), "keygen", "--out", dir.file("k"), "--name", "fs-a"});
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("refusing to overwrite"));
  EXPECT_EQ(t::read_file(dir.file("k/fs-a.key")), key);
  r = t::run({t::bin("dfd-host"), "keygen", "--out", dir.file("k"), "--name", "../x"});
  EXPECT_NE(r.status, 0);
}

}  // namespace
