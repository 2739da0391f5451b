// storage-http against a real nginx origin: what the conformance kit does not cover — the index
// answers list/stat/known_digests without pulling a byte, concurrent misses fetch once, tampered
// origin bytes are refused and never kept, the cache stays under its cap, a restart with the
// origin gone serves the kept index and cached chunks, bad indexes and configs are refused.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "dfd/testing/storage_conformance.hpp"  // detail::pseudo_random, read_range
#include "origin_fixture.hpp"

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DfdStorageConformance);  // only its helpers are used

namespace {

using dfd::conformance::detail::pseudo_random;
using dfd::conformance::detail::read_range;
using dfd::test::ConfigValue;
namespace fs = std::filesystem;

class StorageHttp : public ::testing::Test {
 protected:
  // Writes `files` under www/s/, indexes them with `chunk` bytes per chunk.
  void publish(const std::map<std::string, std::string>& files, std::uint64_t chunk) {
    for (auto& [name, content] : files)
      dfd::test::write_file(origin_.www() + "/s/" + name, content);
    dfd::test::write_origin_index(origin_.www() + "/s", chunk);
  }
  std::map<std::string, ConfigValue> config(std::int64_t cap = std::int64_t{1} << 30) {
    return {{"origin", origin_.url("s/")},
            {"cache_dir", cache()},
            {"cache_max_bytes", cap},
            {"index_refresh_s", std::int64_t{0}},
            {"timeout_ms", std::int64_t{3000}}};
  }
  std::string cache() const { return dir_.file("cache"); }
  std::uint64_t cached_bytes() const {
    std::uint64_t n = 0;
    for (auto& e : fs::directory_iterator(cache() + "/chunks")) n += e.file_size();
    return n;
  }
  std::size_t cached_chunks() const {
    std::size_t n = 0;
    for (auto& e : fs::directory_iterator(cache() + "/chunks")) n += e.is_regular_file() ? 1 : 0;
    return n;
  }

  dfd::test::NginxOrigin origin_;
  dfd::test::TempDir dir_;
};

TEST_F(StorageHttp, IndexAnswersListAndKnownDigestsWithoutPullingAFile) {
  const std::string a = pseudo_random(300000, 1);
  publish({{"a.bin", a}, {"d/e.txt", "hello\n"}}, 65536);
  auto u = dfd::test::load_storage_http(config());
  ASSERT_NE(u->storage(), nullptr) << u->start_status.to_string();
  auto listed = u->storage()->list();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), 2u);
  auto k = u->storage()->known_digests("a.bin");
  ASSERT_TRUE(k.ok()) << k.status().to_string();
  EXPECT_EQ(k->alg, "sha256");
  EXPECT_EQ(k->chunk_size, 65536u);
  EXPECT_EQ(k->chunks.size(), 5u);  // ceil(300000 / 65536)
  EXPECT_EQ(k->digest.size(), 64u);
  EXPECT_EQ(u->storage()->known_digests("nope.bin").status().code(), dfd::Code::kNotFound);
  EXPECT_EQ(u->storage()->known_digests("../x").status().code(), dfd::Code::kInvalidArgument);
  EXPECT_EQ(origin_.requests("200 GET /s/index.json", 1), 1);
  EXPECT_EQ(origin_.requests("206 GET"), 0) << "the index alone must not pull a file";
  EXPECT_EQ(u->host->metric("dfd_storage_http_origin_bytes_total"), 0.0);
}

TEST_F(StorageHttp, ConcurrentMissesOfOneChunkFetchItOnce) {
  const std::string f = pseudo_random(3 << 20, 2);
  publish({{"f.bin", f}}, 1 << 20);
  auto u = dfd::test::load_storage_http(config());
  ASSERT_NE(u->storage(), nullptr) << u->start_status.to_string();
  auto h = u->storage()->open("f.bin");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t off = static_cast<std::uint64_t>(t) * 100000;
      auto got = read_range(**h, off, 5000);
      if (!got.ok() || *got != f.substr(off, 5000)) ++bad;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(origin_.requests("206 GET /s/f.bin bytes=0-1048575", 1), 1);
  EXPECT_EQ(u->host->metric("dfd_storage_http_origin_bytes_total"), double(1 << 20));
  // Served from the cache from now on.
  auto again = read_range(**h, 10, 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(origin_.requests("206 GET"), 1);
  EXPECT_GE(u->host->metric("dfd_storage_http_hits_total"), 1.0);
}

TEST_F(StorageHttp, TamperedOriginChunkIsRefusedAndNeverKept) {
  const std::string f = pseudo_random(3 * 65536, 3);
  publish({{"t.bin", f}}, 65536);
  auto u = dfd::test::load_storage_http(config());
  ASSERT_NE(u->storage(), nullptr) << u->start_status.to_string();
  auto k = u->storage()->known_digests("t.bin");
  ASSERT_TRUE(k.ok());
  // Same size, other bytes in chunk 1.
  std::string bad = f;
  for (std::size_t i = 65536 + 100; i < 65536 + 200; ++i) bad[i] = static_cast<char>(~bad[i]);
  dfd::test::write_file(origin_.www() + "/s/t.bin", bad);

  auto h = u->storage()->open("t.bin");
  ASSERT_TRUE(h.ok());
  std::string buf(4096, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto r = (*h)->read_at(65536 + 50, buf.data(), buf.size());
    ASSERT_FALSE(r.ok()) << "tampered bytes were served";
    EXPECT_EQ(r.status().code(), dfd::Code::kIoError);
    EXPECT_NE(r.status().message().find("'t.bin' chunk 1"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("do not match"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(u->host->metric("dfd_storage_http_verify_failures_total"), 2.0);
  EXPECT_FALSE(fs::exists(cache() + "/chunks/sha256-" + k->chunks[1]));
  EXPECT_EQ(cached_chunks(), 0u);
  EXPECT_TRUE(fs::is_empty(cache() + "/tmp"));
  // Untouched chunks still verify and serve.
  auto ok = read_range(**h, 0, 65536);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(*ok, f.substr(0, 65536));
  EXPECT_TRUE(fs::exists(cache() + "/chunks/sha256-" + k->chunks[0]));
}

TEST_F(StorageHttp, CacheStaysUnderItsCapEvictingLeastRecentlyUsed) {
  const std::string a = pseudo_random(768 << 10, 4), b = pseudo_random(768 << 10, 5);
  publish({{"a.bin", a}, {"b.bin", b}}, 256 << 10);
  const std::int64_t cap = 1 << 20;  // less than the two files (1.5 MiB)
  auto u = dfd::test::load_storage_http(config(cap));
  ASSERT_NE(u->storage(), nullptr) << u->start_status.to_string();
  for (const char* name : {"a.bin", "b.bin"}) {
    auto h = u->storage()->open(name);
    ASSERT_TRUE(h.ok());
    auto got = read_range(**h, 0, 768 << 10);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(*got, name[0] == 'a' ? a : b);
    EXPECT_LE(cached_bytes(), static_cast<std::uint64_t>(cap));
  }
  EXPECT_GE(u->host->metric("dfd_storage_http_evictions_total"), 2.0);
  EXPECT_LE(u->host->metric("dfd_storage_http_cache_bytes"), double(cap));
  EXPECT_EQ(u->host->metric("dfd_storage_http_cache_bytes"), double(cached_bytes()));
  // b.bin, read last, is what stayed.
  auto kb = u->storage()->known_digests("b.bin");
  ASSERT_TRUE(kb.ok());
  for (auto& c : kb->chunks) EXPECT_TRUE(fs::exists(cache() + "/chunks/sha256-" + c));
}

TEST_F(StorageHttp, OriginGoneRestartServesKeptIndexAndCachedChunks) {
  const std::string a = pseudo_random(200000, 6), never = pseudo_random(1000, 7);
  publish({{"a.bin", a}, {"never.bin", never}}, 65536);
  {
    auto u = dfd::test::load_storage_http(config());
    ASSERT_NE(u->storage(), nullptr) << u->start_status.to_string();
    auto h = u->storage()->open("a.bin");
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(read_range(**h, 0, a.size()).ok());
  }
  origin_.stop();
  auto u = dfd::test::load_storage_http(config());
  ASSERT_NE(u->storage(), nullptr) << "start without the origin: " << u->start_status.to_string();
  dfd::Health health = u->storage()->health();
  EXPECT_TRUE(health.healthy) << "it serves what it holds";
  EXPECT_NE(health.detail.find("kept"), std::string::npos) << health.detail;
  auto listed = u->storage()->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
  auto h = u->storage()->open("a.bin");
  ASSERT_TRUE(h.ok());
  auto got = read_range(**h, 0, a.size());
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, a);
  auto n = u->storage()->open("never.bin");
  ASSERT_TRUE(n.ok());
  char c;
  auto r = (*n)->read_at(0, &c, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), dfd::Code::kIoError);
  EXPECT_NE(r.status().message().find("'never.bin' chunk 0"), std::string::npos);
}

TEST_F(StorageHttp, MalformedOversizedAndEscapingIndexesAreRefused) {
  struct Case {
    std::string text;
    std::string want;
  };
  const std::string chunk(64, 'a');
  auto entry = [&](const std::string& name, int chunks) {
    std::string c;
    for (int i = 0; i < chunks; ++i) c += std::string(i ? "," : "") + "\"" + chunk + "\"";
    return "{\"files\":[{\"name\":\"" + name +
           "\",\"size\":10,\"digest\":{\"alg\":\"sha256\",\"value\":\"" + chunk +
           "\"},\"chunk_size\":65536,\"chunks\":[" + c + "]}]}";
  };
  for (const Case& k : std::vector<Case>{
           {"{not json", "JSON"},
           {"[]", "no 'files' array"},
           {entry("../x", 1), "'../x': name is not a safe relative path"},
           {entry("a/.secret", 1), "'a/.secret': name is not a safe relative path"},
           {entry("ok.bin", 2), "chunks"},
       }) {
    dfd::test::write_file(origin_.www() + "/s/index.json", k.text);
    fs::remove_all(cache());
    auto u = dfd::test::load_storage_http(config());
    ASSERT_EQ(u->storage(), nullptr) << "accepted index: " << k.text;
    EXPECT_NE(u->start_status.message().find(k.want), std::string::npos)
        << u->start_status.to_string();
    EXPECT_NE(u->start_status.message().find("refusing the origin's index"), std::string::npos)
        << u->start_status.to_string();
  }
  // Bigger than the 16 MiB limit (sparse): refused without reading it all.
  {
    std::string big = origin_.www() + "/s/index.json";
    fs::remove(big);
    dfd::test::write_file(big, "");
    fs::resize_file(big, (16u << 20) + 1);
    auto u = dfd::test::load_storage_http(config());
    ASSERT_EQ(u->storage(), nullptr);
    EXPECT_NE(u->start_status.message().find("bigger than the limit"), std::string::npos)
        << u->start_status.to_string();
  }
}

TEST_F(StorageHttp, OriginCredentialsStayOutOfLogs) {
  publish({{"a.bin", pseudo_random(70000, 7)}, {"gone.bin", pseudo_random(1000, 8)}}, 65536);
  fs::remove(origin_.www() + "/s/gone.bin");  // listed, but the origin answers 404 for it
  auto cfg = config();
  cfg["origin"] = "http://user:s3cret-pw@127.0.0.1:" + origin_.url().substr(17) + "s/";
  auto u = dfd::test::load_storage_http(cfg);
  ASSERT_NE(u->storage(), nullptr) << u->start_status.to_string();
  auto h = u->storage()->open("gone.bin");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  char buf[16];
  auto r = (*h)->read_at(0, buf, sizeof buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("s3cret"), std::string::npos) << r.status().to_string();
  const std::string log = u->host->log_text();
  EXPECT_NE(log.find("http://127.0.0.1:"), std::string::npos) << log;  // the URLs are logged
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
}

TEST_F(StorageHttp, ConfigErrorsNameTheKey) {
  struct Case {
    std::map<std::string, ConfigValue> cfg;
    std::string key;
  };
  for (const Case& k : std::vector<Case>{
           {{{"cache_dir", cache()}}, "origin"},
           {{{"origin", std::string("ftp://x/")}, {"cache_dir", cache()}}, "origin"},
           {{{"origin", origin_.url()}}, "cache_dir"},
           {{{"origin", origin_.url()}, {"cache_dir", std::string("rel/dir")}}, "cache_dir"},
           {{{"origin", origin_.url()},
             {"cache_dir", cache()},
             {"cache_max_bytes", std::int64_t{5}}},
            "cache_max_bytes"},
           {{{"origin", origin_.url()}, {"cache_dir", cache()}, {"timeout_ms", std::int64_t{1}}},
            "timeout_ms"},
           {{{"origin", origin_.url()}, {"cache_dir", cache()}, {"orign", std::string("x")}},
            "orign"},
       }) {
    auto u = dfd::test::load_storage_http(k.cfg);
    ASSERT_EQ(u->storage(), nullptr) << k.key;
    EXPECT_NE(u->start_status.message().find("'" + k.key + "'"), std::string::npos)
        << u->start_status.to_string();
  }
  EXPECT_FALSE(fs::exists(cache())) << "create() must not make the cache directory";
}

}  // namespace
