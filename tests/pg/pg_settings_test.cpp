// dfd_pg's config keys (unit: no server needed).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "fake_host.hpp"
#include "harness.hpp"
#include "pg_settings.hpp"

namespace {

using dfd::pg::parse_settings;
using dfd::test::ConfigValue;
using dfd::test::FakeHost;
using dfd::test::TempDir;
using Cfg = std::map<std::string, ConfigValue>;

dfd::Result<dfd::pg::Settings> parse(Cfg c) {
  FakeHost host(std::move(c), "pg-test");
  return parse_settings(host.config());
}

TEST(PgSettings, Defaults) {
  ::unsetenv("DFD_PG_PASSWORD");
  auto s = parse({{"dsn", std::string("postgresql://dfd@127.0.0.1:5432/dfd")}});
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->pool_size, 8);
  EXPECT_EQ(s->connect_timeout_ms, 5000);
  EXPECT_EQ(s->statement_timeout_ms, 5000);
  EXPECT_EQ(s->password, "");
  EXPECT_EQ(dfd::pg::describe_dsn(s->dsn), "127.0.0.1:5432/dfd (user dfd)");
}

TEST(PgSettings, DsnIsRequired) {
  auto s = parse({{"pool_size", std::int64_t{2}}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("test.toml"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("dsn"), std::string::npos) << s.status().message();
}

TEST(PgSettings, PasswordInsideTheDsnIsRefusedWithoutQuotingIt) {
  for (std::string dsn : {"postgresql://dfd:s3cretPW@127.0.0.1:5432/dfd",
                          "host=127.0.0.1 user=dfd password=s3cretPW dbname=dfd",
                          "postgresql://dfd@127.0.0.1/dfd?password=s3cretPW"}) {
    auto s = parse({{"dsn", dsn}});
    ASSERT_FALSE(s.ok()) << dsn;
    EXPECT_EQ(s.status().code(), dfd::Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find("password"), std::string::npos);
    EXPECT_EQ(s.status().message().find("s3cretPW"), std::string::npos) << s.status().message();
  }
}

TEST(PgSettings, MalformedDsnIsAConfigError) {
  auto s = parse({{"dsn", std::string("postgresql://dfd@127.0.0.1:5432/dfd?nosuchoption=1")}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("dsn"), std::string::npos);
  EXPECT_FALSE(parse({{"dsn", std::string("")}}).ok());
}

TEST(PgSettings, PasswordFileMustBePrivate) {
  TempDir d;
  std::string f = d.file("pw");
  dfd::test::write_file(f, "topsecret\nsecond line ignored\n");
  ::chmod(f.c_str(), 0644);
  Cfg c{{"dsn", std::string("postgresql://dfd@127.0.0.1/dfd")}, {"password_file", f}};
  auto s = parse(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("password_file"), std::string::npos);
  EXPECT_EQ(s.status().message().find("topsecret"), std::string::npos);
  ::chmod(f.c_str(), 0600);
  s = parse(c);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->password, "topsecret");
}

TEST(PgSettings, PasswordFromTheEnvironment) {
  ::setenv("DFD_PG_PASSWORD", "fromenv", 1);
  auto s = parse({{"dsn", std::string("postgresql://dfd@127.0.0.1/dfd")}});
  ::unsetenv("DFD_PG_PASSWORD");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->password, "fromenv");
}

TEST(PgSettings, RangesAreChecked) {
  const std::string dsn = "postgresql://dfd@127.0.0.1/dfd";
  for (auto [key, bad] :
       std::vector<std::pair<std::string, std::int64_t>>{{"pool_size", 0},
                                                         {"pool_size", 257},
                                                         {"connect_timeout_ms", 5},
                                                         {"statement_timeout_ms", 0}}) {
    auto s = parse({{"dsn", dsn}, {key, bad}});
    ASSERT_FALSE(s.ok()) << key;
    EXPECT_NE(s.status().message().find(key), std::string::npos) << s.status().message();
  }
  auto s = parse({{"dsn", dsn}, {"pool_size", std::string("8")}});
  EXPECT_FALSE(s.ok()) << "a string is not an integer";
}

}  // namespace
