// The status page's data pieces directly (no plugin, no host): the per-second rate window, the
// bounded read of the audit log's end, and the catalog's every-location view (issue 14).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "audit_tail.hpp"
#include "catalog.hpp"
#include "harness.hpp"
#include "rate_window.hpp"
#include "sqlite_catalog_store.hpp"

namespace dfd::info {
namespace {

TEST(StatusRateWindow, CountsEachSecondOfTheLastMinuteOnly) {
  RateWindow w;
  w.add(1000);
  w.add(1000);
  w.add(1001, 5);
  w.add(1059);
  auto s = w.series(1059);
  ASSERT_EQ(s.size(), 60u);
  EXPECT_EQ(s[0], 2u);   // second 1000
  EXPECT_EQ(s[1], 5u);   // 1001
  EXPECT_EQ(s[59], 1u);  // 1059, the newest
  std::uint64_t sum = 0;
  for (auto v : s) sum += v;
  EXPECT_EQ(sum, 8u);
  // A minute later second 1000 has left the window; its slot is reused by 1060.
  s = w.series(1060);
  EXPECT_EQ(s[0], 5u);  // 1001
  w.add(1060, 3);
  s = w.series(1060);
  EXPECT_EQ(s[59], 3u);
  // Long idle: nothing left.
  s = w.series(5000);
  for (auto v : s) EXPECT_EQ(v, 0u);
  // A late add for a second older than the slot's is dropped, not mixed in.
  w.add(5000, 7);
  w.add(4940, 100);
  EXPECT_EQ(w.series(5000)[59], 7u);
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string line(int i, const char* event) {
  return nlohmann::json{{"time", "2026-11-30T10:00:00Z"}, {"event", event}, {"n", i}}.dump() + "\n";
}

TEST(StatusAuditTail, NewestFirstFilteredAndLimited) {
  test::TempDir dir;
  const std::string path = dir.file("audit.log");
  std::string text;
  for (int i = 0; i < 10; ++i) text += line(i, i % 2 ? "manifest" : "login");
  write(path, text + "not json\n[1,2]\n{\"event\":\"manifest\",\"n\":99");  // last: unfinished
  auto t = read_audit_tail(path, 1 << 20, 100, "manifest");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  ASSERT_EQ(t->entries.size(), 5u);
  EXPECT_EQ(t->entries[0]["n"], 9);  // newest first; the unfinished line is not there
  EXPECT_EQ(t->entries[4]["n"], 1);
  EXPECT_TRUE(t->complete);
  EXPECT_EQ(t->file_bytes, t->scanned_bytes);

  t = read_audit_tail(path, 1 << 20, 3, "");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->entries.size(), 3u);
  EXPECT_EQ(t->entries[0]["n"], 9);
  EXPECT_EQ(t->entries[1]["n"], 8);
  EXPECT_EQ(t->entries[1]["event"], "login");
}

TEST(StatusAuditTail, ReadsOnlyTheLastBytesOfABigLog) {
  test::TempDir dir;
  const std::string path = dir.file("audit.log");
  std::string text;
  for (int i = 0; i < 20000; ++i) text += line(i, "manifest");
  write(path, text);
  const std::size_t one = line(19999, "manifest").size();  // the last lines: 5 digits
  auto t = read_audit_tail(path, 10 * one + one / 2, 1000, "manifest");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->scanned_bytes, 10 * one + one / 2);
  EXPECT_EQ(t->file_bytes, text.size());
  // The piece of a line at the start is dropped: 10 whole lines.
  ASSERT_EQ(t->entries.size(), 10u);
  EXPECT_EQ(t->entries[0]["n"], 19999);
  EXPECT_EQ(t->entries[9]["n"], 19990);
  EXPECT_FALSE(t->complete);  // older lines were not read
  t = read_audit_tail(path, 10 * one + one / 2, 4, "manifest");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->entries.size(), 4u);
  EXPECT_TRUE(t->complete);  // the limit was reached
}

TEST(StatusAuditTail, TheCutFirstLineIsDroppedEvenWhenItsEndParses) {
  test::TempDir dir;
  const std::string path = dir.file("audit.log");
  // A read of the last bytes starts right at the '{' of a damaged line: that piece is valid JSON
  // but not a line of the log.
  const std::string cut = "garbage {\"event\":\"manifest\",\"n\":-1}\n";
  const std::string last = line(1, "manifest");
  write(path, line(0, "manifest") + cut + last);
  auto t = read_audit_tail(path, cut.size() - 8 + last.size(), 10, "manifest");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->entries.size(), 1u);
  EXPECT_EQ(t->entries[0]["n"], 1);
}

TEST(StatusAuditTail, MissingFileIsNotFoundAndEmptyFileIsEmpty) {
  test::TempDir dir;
  auto t = read_audit_tail(dir.file("none.log"), 1024, 10, "");
  EXPECT_EQ(t.status().code(), Code::kNotFound);
  write(dir.file("empty.log"), "");
  t = read_audit_tail(dir.file("empty.log"), 1024, 10, "");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->entries.empty());
  EXPECT_TRUE(t->complete);
}

TEST(StatusCatalogLocations, EveryLocationWithItsServersHealth) {
  test::TempDir dir;
  auto cat = info_sqlite::open_sqlite_catalog(dir.file("catalog.db"));
  ASSERT_TRUE(cat.ok()) << cat.status().to_string();
  events::FileAvailable f;
  f.uid = sha256_hex("x");
  f.name = "x.bin";
  f.size = 1;
  f.alg = "sha256";
  f.chunk_size = 1;
  f.chunks = {sha256_hex("c")};
  for (const char* s : {"fs-c", "fs-a", "fs-b"}) {
    f.server_id = s;
    f.zone = std::string("zone-") + s[3];
    f.url = std::string("http://127.0.0.1:1/") + s;
    ASSERT_TRUE((*cat)->apply_available(f, 1000).ok());
    events::Heartbeat h{s, f.zone, f.url, 500, 1};
    ASSERT_TRUE((*cat)->apply_heartbeat(h, s[3] == 'b' ? 1000 : 9000).ok());
  }
  auto locs = (*cat)->locations(f.uid, 10000, 3000);
  ASSERT_EQ(locs.size(), 3u);
  EXPECT_EQ(locs[0].server_id, "fs-a");
  EXPECT_TRUE(locs[0].healthy);
  EXPECT_EQ(locs[1].server_id, "fs-b");
  EXPECT_FALSE(locs[1].healthy);  // heard 9 s ago, timeout 3 s
  EXPECT_EQ(locs[1].last_seen_ms, 1000);
  EXPECT_EQ(locs[1].zone, "zone-b");
  EXPECT_EQ(locs[2].server_id, "fs-c");
  EXPECT_TRUE(locs[2].healthy);
  // The manifests' view leaves the silent one out.
  EXPECT_EQ((*cat)->live_locations(f.uid, "", 10000, 3000).size(), 2u);
  EXPECT_TRUE((*cat)->locations(sha256_hex("unknown"), 10000, 3000).empty());
}

}  // namespace
}  // namespace dfd::info
