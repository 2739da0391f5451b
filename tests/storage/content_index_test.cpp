// The host's content index over the real storage-fs plugin, a real SHA-256 digest (the
// digest-openssl plugin when it is built, else an OpenSSL test double) and a real SQLite sidecar.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "content/content_index.hpp"
#include "dfd/dfd.hpp"
#include "dfd/events.hpp"
#include "dfd/testing/fault_storage.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace {

using dfd::Status;
using dfd::host::ContentIndex;
using dfd::host::ContentIndexOptions;
using dfd::host::IndexChanges;
using dfd::host::IndexedFile;
using dfd::test::ConfigValue;
using dfd::test::FakeHost;
using dfd::test::TempDir;
using dfd::test::write_file;
using dfd::testing::FaultStorage;

// SHA-256 through OpenSSL: used only when the digest-openssl plugin is not in this build.
class Sha256Hasher : public dfd::Hasher {
 public:
  Sha256Hasher() : ctx_(EVP_MD_CTX_new()) { reset(); }
  ~Sha256Hasher() override { EVP_MD_CTX_free(ctx_); }
  void update(const void* d, std::size_t n) noexcept override { EVP_DigestUpdate(ctx_, d, n); }
  std::string final_hex() noexcept override {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    reset();
    return dfd::to_hex(md, len);
  }
  void reset() noexcept override { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  std::size_t digest_size() const noexcept override { return 32; }

 private:
  EVP_MD_CTX* ctx_;
};

class Sha256Digest : public dfd::Digest {
 public:
  std::vector<std::string> algorithms() const noexcept override { return {"sha256"}; }
  dfd::Result<std::unique_ptr<dfd::Hasher>> new_hasher(std::string_view alg) noexcept override {
    if (alg != "sha256")
      return dfd::Status::NotFound("unknown algorithm '" + std::string(alg) + "'");
    return std::unique_ptr<dfd::Hasher>(std::make_unique<Sha256Hasher>());
  }
};

std::string pseudo_random(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

void set_mtime(const std::string& path, long sec) {
  struct timespec t[2] = {{sec, 0}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, 0), 0);
}

class ContentIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.file("root");
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    db_ = dir_.file("state/index.db");
    storage_host_ = std::make_unique<FakeHost>(
        std::map<std::string, ConfigValue>{{"root", root_}, {"settle_ms", std::int64_t{0}}},
        "storage-fs");
    auto s = dfd::test::load_plugin("storage-fs", *storage_host_);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    storage_plugin_ = std::move(s.value());
    digest_host_ =
        std::make_unique<FakeHost>(std::map<std::string, ConfigValue>{}, "digest-openssl");
    auto d = dfd::test::load_plugin("digest-openssl", *digest_host_);
    if (d.ok()) {
      digest_plugin_ = std::move(d.value());
      digest_ = digest_plugin_.as<dfd::Digest>();
    } else {
      digest_ = &fallback_digest_;
    }
    new_index_host();
  }

  // A fresh host for the index (fresh metrics), as after a process restart.
  void new_index_host() { index_host_ = std::make_unique<FakeHost>(); }

  std::unique_ptr<ContentIndex> make_index(std::uint64_t chunk_size = 4, bool cache = true,
                                           std::string alg = "sha256") {
    ContentIndexOptions o;
    o.chunk_size = chunk_size;
    o.algorithm = std::move(alg);
    o.db_path = cache ? db_ : std::string();
    return std::make_unique<ContentIndex>(*storage_plugin_.as<dfd::Storage>(), *digest_,
                                          index_host_->logger(), index_host_->metrics(), o);
  }

  IndexChanges rescan(ContentIndex& index) {
    auto r = index.rescan();
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? std::move(r.value()) : IndexChanges{};
  }

  double bytes_hashed() const { return index_host_->metric("dfd_index_bytes_hashed_total"); }

  static std::vector<std::string> chunk_digests(const std::string& content, std::size_t cs) {
    std::vector<std::string> out;
    for (std::size_t off = 0; off < content.size(); off += cs) {
      out.push_back(dfd::sha256_hex(content.substr(off, cs)));
    }
    return out;
  }

  static std::vector<std::string> uids(const std::vector<std::shared_ptr<const IndexedFile>>& v) {
    std::vector<std::string> out;
    for (auto& f : v) out.push_back(f->uid);
    std::sort(out.begin(), out.end());
    return out;
  }

  int sidecar_rows() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM files", -1, &s, nullptr), SQLITE_OK);
    int n = -1;
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }

  TempDir dir_;
  std::string root_, db_;
  std::unique_ptr<FakeHost> storage_host_, digest_host_, index_host_;
  dfd::test::LoadedPlugin storage_plugin_, digest_plugin_;
  Sha256Digest fallback_digest_;
  dfd::Digest* digest_ = nullptr;
};

TEST_F(ContentIndexTest, UidIsSha256AndChunksCoverTheFile) {
  const std::string ten = "0123456789";  // 4 + 4 + 2
  const std::string eight = "abcdefgh";  // exactly 2 chunks
  const std::string big = pseudo_random(1001, 1);
  write_file(root_ + "/ten.bin", ten);
  write_file(root_ + "/eight.bin", eight);
  write_file(root_ + "/empty.bin", "");
  write_file(root_ + "/d/big.bin", big);
  auto index = make_index(4);
  ASSERT_TRUE(index->open().ok());
  auto ch = rescan(*index);
  EXPECT_EQ(ch.added.size(), 4u);
  EXPECT_TRUE(ch.removed.empty());
  EXPECT_EQ(index->size(), 4u);

  for (auto& [path, content] : std::vector<std::pair<std::string, std::string>>{
           {"ten.bin", ten}, {"eight.bin", eight}, {"empty.bin", ""}, {"d/big.bin", big}}) {
    auto f = index->find(dfd::sha256_hex(content));
    ASSERT_NE(f, nullptr) << path;
    EXPECT_EQ(f->path, path);
    EXPECT_EQ(f->size, content.size());
    EXPECT_EQ(f->alg, "sha256");
    EXPECT_EQ(f->chunk_size, 4u);
    EXPECT_EQ(f->chunks, chunk_digests(content, 4)) << path;
  }
  EXPECT_EQ(index->find(dfd::sha256_hex("0123456789"))->chunks.size(), 3u);
  EXPECT_TRUE(index->find(dfd::sha256_hex(""))->chunks.empty()) << "an empty file has no chunks";
  EXPECT_EQ(bytes_hashed(), static_cast<double>(10 + 8 + big.size()));
  EXPECT_EQ(index_host_->metric("dfd_index_files"), 4.0);
  EXPECT_EQ(index->find("../../etc/passwd"), nullptr);
  EXPECT_EQ(index->find(""), nullptr);
}

TEST_F(ContentIndexTest, LargeChunksAcrossReadBuffers) {
  // 2.5 MiB hashes on the scanning thread; 9 MiB (>= 8 MiB) on two threads.
  const std::string small = pseudo_random((5 << 20) / 2 + 3, 9);
  const std::string big = pseudo_random((9 << 20) + 3, 10);
  write_file(root_ + "/small.bin", small);
  write_file(root_ + "/big.bin", big);
  const std::size_t cs = (1 << 20) + 17;  // chunk edges fall inside 1 MiB reads
  auto index = make_index(cs);
  ASSERT_TRUE(index->open().ok());
  rescan(*index);
  auto f = index->find(dfd::sha256_hex(small));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->chunks, chunk_digests(small, cs));
  EXPECT_EQ(f->chunks.size(), 3u);
  f = index->find(dfd::sha256_hex(big));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->chunks, chunk_digests(big, cs));
  EXPECT_EQ(f->chunks.size(), 9u);
}

TEST_F(ContentIndexTest, RestartReusesTheSidecar) {
  write_file(root_ + "/a.bin", pseudo_random(100000, 2));
  write_file(root_ + "/b/c.bin", pseudo_random(5000, 3));
  std::vector<std::string> first;
  {
    auto index = make_index(4096);
    ASSERT_TRUE(index->open().ok());
    rescan(*index);
    first = uids(index->all());
    EXPECT_EQ(bytes_hashed(), 105000.0);
  }
  EXPECT_EQ(sidecar_rows(), 2);
  new_index_host();  // fresh counters, as in a new process
  auto index = make_index(4096);
  ASSERT_TRUE(index->open().ok());
  auto ch = rescan(*index);
  EXPECT_EQ(bytes_hashed(), 0.0) << "unchanged files must come from the cache";
  EXPECT_EQ(index_host_->metric("dfd_index_files_hashed_total"), 0.0);
  EXPECT_EQ(uids(index->all()), first);
  EXPECT_EQ(uids(ch.added), first) << "the first scan of a process reports everything";
  auto f = index->find(dfd::sha256_hex(pseudo_random(5000, 3)));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->chunks, chunk_digests(pseudo_random(5000, 3), 4096));

  // Another chunk size or algorithm does not reuse the rows.
  new_index_host();
  auto other = make_index(1024);
  ASSERT_TRUE(other->open().ok());
  rescan(*other);
  EXPECT_EQ(bytes_hashed(), 105000.0);
}

TEST_F(ContentIndexTest, UnchangedRescanReportsNothing) {
  write_file(root_ + "/a.bin", "aaaa");
  auto index = make_index();
  ASSERT_TRUE(index->open().ok());
  rescan(*index);
  double before = bytes_hashed();
  auto ch = rescan(*index);
  EXPECT_TRUE(ch.added.empty());
  EXPECT_TRUE(ch.removed.empty());
  EXPECT_EQ(bytes_hashed(), before);
  EXPECT_EQ(index_host_->metric("dfd_index_rescans_total"), 2.0);
}

TEST_F(ContentIndexTest, ChangedFileIsRehashedAndReported) {
  const std::string p = root_ + "/a.bin";
  write_file(p, "version one");
  set_mtime(p, 1700000000);
  write_file(root_ + "/stable.bin", "stable");
  auto index = make_index();
  ASSERT_TRUE(index->open().ok());
  rescan(*index);
  const std::string old_uid = dfd::sha256_hex("version one");
  ASSERT_NE(index->find(old_uid), nullptr);

  write_file(p, "version two, longer");
  set_mtime(p, 1700000100);
  double before = bytes_hashed();
  auto ch = rescan(*index);
  EXPECT_EQ(bytes_hashed() - before, 19.0) << "only the changed file is read";
  EXPECT_EQ(uids(ch.added), std::vector<std::string>{dfd::sha256_hex("version two, longer")});
  EXPECT_EQ(uids(ch.removed), std::vector<std::string>{old_uid});
  EXPECT_EQ(index->find(old_uid), nullptr);

  // Same size, new mtime: rehashed too.
  write_file(p, "version 3, same size");
  write_file(p, "version three, size");
  set_mtime(p, 1700000200);
  ch = rescan(*index);
  EXPECT_EQ(uids(ch.added), std::vector<std::string>{dfd::sha256_hex("version three, size")});
  EXPECT_EQ(uids(ch.removed), std::vector<std::string>{dfd::sha256_hex("version two, longer")});

  // And the sidecar remembers the new digest across a restart.
  new_index_host();
  auto again = make_index();
  ASSERT_TRUE(again->open().ok());
  rescan(*again);
  EXPECT_EQ(bytes_hashed(), 0.0);
  EXPECT_NE(again->find(dfd::sha256_hex("version three, size")), nullptr);
}

TEST_F(ContentIndexTest, RemovedFileIsReportedAndForgotten) {
  write_file(root_ + "/a.bin", "aaa");
  write_file(root_ + "/b.bin", "bbb");
  auto index = make_index();
  ASSERT_TRUE(index->open().ok());
  rescan(*index);
  EXPECT_EQ(sidecar_rows(), 2);
  ASSERT_EQ(::unlink((root_ + "/a.bin").c_str()), 0);
  auto ch = rescan(*index);
  EXPECT_TRUE(ch.added.empty());
  EXPECT_EQ(uids(ch.removed), std::vector<std::string>{dfd::sha256_hex("aaa")});
  EXPECT_EQ(index->find(dfd::sha256_hex("aaa")), nullptr);
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(sidecar_rows(), 1);
  EXPECT_EQ(index_host_->metric("dfd_index_files"), 1.0);
}

TEST_F(ContentIndexTest, CopiesOfTheSameContentAreOneUid) {
  const std::string content = pseudo_random(20000, 5);
  write_file(root_ + "/x/copy1.bin", content);
  write_file(root_ + "/y/copy2.bin", content);
  write_file(root_ + "/other.bin", "other");
  auto index = make_index(4096);
  ASSERT_TRUE(index->open().ok());
  auto ch = rescan(*index);
  EXPECT_EQ(index->size(), 2u);
  EXPECT_EQ(ch.added.size(), 2u);
  const std::string uid = dfd::sha256_hex(content);
  ASSERT_NE(index->find(uid), nullptr);
  EXPECT_EQ(index->find(uid)->path, "x/copy1.bin") << "the first path names the content";

  // The first copy goes: the uid stays (served from the other path), re-announced, not removed.
  ASSERT_EQ(::unlink((root_ + "/x/copy1.bin").c_str()), 0);
  ch = rescan(*index);
  EXPECT_TRUE(ch.removed.empty());
  EXPECT_EQ(uids(ch.added), std::vector<std::string>{uid});
  EXPECT_EQ(index->find(uid)->path, "y/copy2.bin");
}

TEST_F(ContentIndexTest, WorksWithoutASidecar) {
  write_file(root_ + "/a.bin", "abc");
  auto index = make_index(4, /*cache=*/false);
  ASSERT_TRUE(index->open().ok());
  rescan(*index);
  EXPECT_NE(index->find(dfd::sha256_hex("abc")), nullptr);
  EXPECT_NE(::access(db_.c_str(), F_OK), 0) << "no sidecar file is written";
}

TEST_F(ContentIndexTest, UnreadableSidecarIsRebuilt) {
  write_file(db_, std::string(8192, 'G'));  // not a database
  write_file(root_ + "/a.bin", "abc");
  auto index = make_index();
  Status st = index->open();
  ASSERT_TRUE(st.ok()) << st.to_string();
  rescan(*index);
  EXPECT_NE(index->find(dfd::sha256_hex("abc")), nullptr);
  EXPECT_EQ(sidecar_rows(), 1);
  EXPECT_NE(index_host_->log_text().find("rebuilding"), std::string::npos);
}

TEST_F(ContentIndexTest, BadOptionsAndOrderAreErrors) {
  auto unknown = make_index(4, true, "md4-nope");
  Status st = unknown->open();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("md4-nope"), std::string::npos) << st.to_string();

  auto zero = make_index(0);
  EXPECT_EQ(zero->open().code(), dfd::Code::kInvalidArgument);

  auto early = make_index();
  auto r = early->rescan();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), dfd::Code::kFailedPrecondition);
}

TEST_F(ContentIndexTest, ReadersNeverBlockOnRescans) {
  for (int i = 0; i < 20; ++i) write_file(root_ + "/f" + std::to_string(i), pseudo_random(3000, i));
  auto index = make_index(1000);
  ASSERT_TRUE(index->open().ok());
  rescan(*index);
  std::atomic<bool> stop{false};
  std::atomic<long> lookups{0}, misses{0};
  std::thread reader([&] {
    const std::string uid = dfd::sha256_hex(pseudo_random(3000, 0));
    while (!stop || lookups < 1000) {
      if (!index->find(uid)) ++misses;
      if (index->all().size() < 20) ++misses;
      ++lookups;
    }
  });
  std::thread rescanner([&] {
    for (int i = 0; i < 5; ++i) (void)index->rescan();
  });
  for (int i = 0; i < 5; ++i) (void)index->rescan();
  rescanner.join();
  stop = true;
  reader.join();
  EXPECT_GT(lookups.load(), 0);
  EXPECT_EQ(misses.load(), 0);
}

TEST_F(ContentIndexTest, AReadErrorSkipsOnlyThatFileUntilTheNextScan) {
  write_file(root_ + "/good.bin", "good");
  write_file(root_ + "/bad.bin", "bad");
  FaultStorage faulty(*storage_plugin_.as<dfd::Storage>());
  faulty.only_path("bad.bin");
  faulty.fail_next(FaultStorage::Call::kReadAt, -1, Status::IoError("injected read error"));
  ContentIndexOptions o;
  o.chunk_size = 2;
  o.db_path = db_;
  ContentIndex index(faulty, *digest_, index_host_->logger(), index_host_->metrics(), o);
  ASSERT_TRUE(index.open().ok());
  auto ch = rescan(index);
  EXPECT_EQ(uids(ch.added), std::vector<std::string>{dfd::sha256_hex("good")});
  EXPECT_NE(index_host_->log_text().find("injected read error"), std::string::npos);
  EXPECT_EQ(sidecar_rows(), 1) << "a failed file is not cached";

  faulty.reset_faults();
  ch = rescan(index);
  EXPECT_EQ(uids(ch.added), std::vector<std::string>{dfd::sha256_hex("bad")});
  EXPECT_EQ(index.size(), 2u);
}

TEST_F(ContentIndexTest, AFileRewrittenWhileHashedWaitsForTheNextScan) {
  const std::string p = root_ + "/moving.bin";
  write_file(p, "first content");
  set_mtime(p, 1700000000);
  FaultStorage faulty(*storage_plugin_.as<dfd::Storage>());
  faulty.only_path("moving.bin");
  faulty.after_next_read([&] {
    write_file(p, "second content!");
    set_mtime(p, 1700000050);
  });
  ContentIndexOptions o;
  o.chunk_size = 4;
  o.db_path = db_;
  ContentIndex index(faulty, *digest_, index_host_->logger(), index_host_->metrics(), o);
  ASSERT_TRUE(index.open().ok());
  auto ch = rescan(index);
  EXPECT_TRUE(ch.added.empty()) << "a digest over mixed versions must not be published";
  EXPECT_EQ(index.size(), 0u);
  ch = rescan(index);
  EXPECT_EQ(uids(ch.added), std::vector<std::string>{dfd::sha256_hex("second content!")});
}

}  // namespace
