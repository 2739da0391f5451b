// info-core's pure pieces (with info-sqlite's catalog store) directly (no plugin, no host): the
// file-name rule and the catalog applying it (issue 11, #8, defence in depth behind the event
// decoder), the client address behind trusted proxies and the audit log's line format.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "audit_log.hpp"
#include "catalog.hpp"
#include "client_address.hpp"
#include "file_name.hpp"
#include "harness.hpp"
#include "login_limiter.hpp"
#include "manifest_limiter.hpp"
#include "sqlite_catalog_store.hpp"

namespace dfd::info {
namespace {
using info_sqlite::open_sqlite_catalog;

TEST(InfoFileName, RefusesControlCharactersAndBadUtf8) {
  EXPECT_EQ(file_name_problem("report.pdf"), "");
  EXPECT_EQ(file_name_problem("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80.txt"), "");
  EXPECT_EQ(file_name_problem("with space & (parens).bin"), "");
  for (const std::string& bad :
       {std::string("a\x1b[2Jb"), std::string("a\x07"), std::string("a\nb"), std::string("a\0b", 3),
        std::string("a\x7f"), std::string("a\rb"), std::string("\t"), std::string("c1\xc2\x85"),
        std::string("\xff"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
        std::string("\xe2\x82"), std::string(""), std::string(4097, 'a')}) {
    std::string why = file_name_problem(bad);
    EXPECT_NE(why, "") << testing::PrintToString(bad);
    for (char c : why) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw byte in message";
  }
  EXPECT_NE(file_name_problem("a\x1b").find("0x1b at offset 1"), std::string::npos);
}

TEST(InfoFileName, TheCatalogRefusesThemWhateverTheDecoderDid) {
  test::TempDir dir;
  auto cat = open_sqlite_catalog(dir.file("catalog.db"));
  ASSERT_TRUE(cat.ok()) << cat.status().to_string();
  events::FileAvailable f;
  f.server_id = "fs-a";
  f.zone = "zone-a";
  f.url = "http://127.0.0.1:1/";
  f.uid = sha256_hex("x");
  f.size = 1;
  f.alg = "sha256";
  f.chunk_size = 1;
  f.chunks = {sha256_hex("c")};
  for (const std::string& bad :
       {std::string("esc\x1b"), std::string("nul\0x", 5), std::string("bel\x07"),
        std::string("nl\n"), std::string("del\x7f")}) {
    f.name = bad;
    Status st = (*cat)->apply_available(f, 1000);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.to_string();
  }
  EXPECT_EQ((*cat)->file_count(), 0u);
  f.name = "fine.bin";
  EXPECT_TRUE((*cat)->apply_available(f, 1000).ok());
  EXPECT_EQ((*cat)->file_count(), 1u);
}

// A catalog written before names were checked: the entry is dropped at open.
TEST(InfoFileName, EntriesStoredBeforeTheCheckAreDroppedAtOpen) {
  test::TempDir dir;
  const std::string db = dir.file("catalog.db");
  {
    auto cat = open_sqlite_catalog(db);
    ASSERT_TRUE(cat.ok());
  }
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h,
                         "INSERT INTO files(uid, name, size, alg, chunk_size, chunks, first_seen) "
                         "VALUES('aa', 'evil\x1b[2J', 1, 'sha256', 1, '[\"bb\"]', 1),"
                         "('cc', 'good', 1, 'sha256', 1, '[\"dd\"]', 1);"
                         "INSERT INTO locations VALUES('aa', 's', 'http://x/', 'z', 1);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(h);
  // Put a real ESC into the first name (SQL literals cannot write one).
  ASSERT_EQ(sqlite3_exec(h, "UPDATE files SET name = 'evil' || char(27) || '[2J' WHERE uid = 'aa'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  auto cat = open_sqlite_catalog(db);
  ASSERT_TRUE(cat.ok()) << cat.status().to_string();
  EXPECT_EQ((*cat)->purged_names(), 1u);
  EXPECT_EQ((*cat)->file_count(), 1u);
}

TEST(InfoClientAddress, ForwardedForOnlyThroughTrustedProxies) {
  auto none = ClientAddress::parse({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->resolve("127.0.0.1", "6.6.6.6"), "127.0.0.1");
  auto some = ClientAddress::parse({"127.0.0.1/32", "10.0.0.0/8", "fd00::/8"});
  ASSERT_TRUE(some.ok()) << some.status().to_string();
  EXPECT_EQ(some->resolve("127.0.0.1", ""), "127.0.0.1");
  EXPECT_EQ(some->resolve("127.0.0.1", "203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(some->resolve("127.0.0.1", " 1.1.1.1 , 203.0.113.9, 10.2.3.4"), "203.0.113.9");
  EXPECT_EQ(some->resolve("127.0.0.1", "10.0.0.1, 10.0.0.2"), "10.0.0.1");
  EXPECT_EQ(some->resolve("127.0.0.1", "garbage"), "127.0.0.1");
  EXPECT_EQ(some->resolve("192.0.2.1", "203.0.113.9"), "192.0.2.1");  // untrusted peer
  EXPECT_EQ(some->resolve("fd12::1", "2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(some->resolve("127.0.0.1", "2001:DB8:0::1"), "2001:db8::1");  // canonical form
  EXPECT_EQ(some->resolve("127.0.0.2", "203.0.113.9"), "127.0.0.2");      // /32 only
  for (const char* bad : {"10.0.0.0/33", "x", "10.0.0.0/", "10.0.0.0/a", "::/129", ""}) {
    EXPECT_FALSE(ClientAddress::parse({bad}).ok()) << bad;
  }
}

TEST(InfoAuditLog, OneJsonObjectPerLineFilePrivate) {
  test::TempDir dir;
  AuditLog log;
  ASSERT_TRUE(log.open(dir.file("audit.log")).ok());
  EXPECT_TRUE(log.record("login_failed", nlohmann::json{{"account", "evil\n{\"event\":\"login\"}"}},
                         std::chrono::system_clock::now()));
  EXPECT_TRUE(log.record("manifest", nlohmann::json{{"user_id", 3}, {"file_id", 7}},
                         std::chrono::system_clock::now()));
  std::ifstream in(dir.file("audit.log"));
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event"], "login_failed");
  EXPECT_EQ(lines[0]["account"], "evil\n{\"event\":\"login\"}");
  EXPECT_TRUE(lines[0]["time"].is_string());
  EXPECT_EQ(lines[1]["file_id"], 7);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("audit.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(InfoLoginLimiter, ReservesCancelsAndSweepsManyKeys) {
  using namespace std::chrono_literals;
  LoginLimiter::Limits l;
  l.pair_max = 2;
  l.address_max = 3;
  l.account_max = 100;
  LoginLimiter lim(l);
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  // A cancelled attempt (store error) does not count; a failed one does.
  auto a = lim.reserve("bob", "1.1.1.1", t);
  ASSERT_EQ(a.retry_after, 0);
  lim.cancelled(a);
  EXPECT_EQ(lim.reserve("bob", "1.1.1.1", t).retry_after, 0);
  EXPECT_EQ(lim.reserve("bob", "1.1.1.1", t).retry_after, 0);
  EXPECT_EQ(lim.reserve("bob", "1.1.1.1", t).retry_after, 300);  // the pair: window
  // The address reached 2 of 3; one more (another account) reaches the backoff.
  EXPECT_EQ(lim.reserve("eve", "1.1.1.1", t).retry_after, 0);
  EXPECT_EQ(lim.reserve("ann", "1.1.1.1", t).retry_after, 1);
  EXPECT_EQ(lim.reserve("ann", "1.1.1.1", t + 1s).retry_after, 0);  // 4th failure
  EXPECT_EQ(lim.reserve("ann", "1.1.1.1", t + 2s).retry_after, 1);  // now 2 s after t + 1 s
  EXPECT_EQ(lim.reserve("ann", "1.1.1.1", t + 3s).retry_after, 0);
  // 30,000 addresses (three sweeps); after the window every key is gone and allowed again.
  for (int i = 0; i < 30000; ++i) {
    EXPECT_EQ(
        lim.reserve("x" + std::to_string(i), "10.0." + std::to_string(i), t + 10s).retry_after, 0);
  }
  EXPECT_EQ(lim.reserve("bob", "1.1.1.1", t + 400s).retry_after, 0);
}

TEST(InfoManifestLimiter, TokenBucketPerUser) {
  using namespace std::chrono_literals;
  ManifestLimiter lim(60, 2);  // one a second, bursts of 2
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  EXPECT_EQ(lim.take(1, t), 0);
  EXPECT_EQ(lim.take(1, t), 0);
  EXPECT_EQ(lim.take(1, t), 1);
  EXPECT_EQ(lim.take(2, t), 0);
  EXPECT_EQ(lim.take(1, t + 1s), 0);
  for (int u = 10; u < 30000; ++u) EXPECT_EQ(lim.take(u, t + 2s), 0);
  ManifestLimiter off(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(off.take(1, t), 0);
}

}  // namespace
}  // namespace dfd::info
