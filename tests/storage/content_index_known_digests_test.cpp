// Issue 15: the content index asks a storage of ABI minor >= 4 for its known digests
// (Storage::known_digests) and indexes a file from them without opening it, when their algorithm
// and chunk size are the index's; otherwise it reads and hashes as before, saying why once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "content/content_index.hpp"
#include "dfd/dfd.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace {

using dfd::host::ContentIndex;
using dfd::host::ContentIndexOptions;

// Files in memory; known_digests answers `known` (or kNotSupported when it is unset).
class KnowingStorage : public dfd::Storage {
 public:
  std::map<std::string, std::string> files;
  std::optional<dfd::KnownDigests> known;
  std::atomic<int> opens{0}, asked{0};

  dfd::Result<std::vector<dfd::FileEntry>> list() noexcept override {
    std::vector<dfd::FileEntry> out;
    for (auto& [p, c] : files) out.push_back({p, c.size(), 7});
    return out;
  }
  dfd::Result<dfd::FileEntry> stat(std::string_view p) noexcept override {
    auto it = files.find(std::string(p));
    if (it == files.end()) return dfd::Status::NotFound("no");
    return dfd::FileEntry{it->first, it->second.size(), 7};
  }
  dfd::Result<std::unique_ptr<dfd::ReadHandle>> open(std::string_view p) noexcept override {
    ++opens;
    auto it = files.find(std::string(p));
    if (it == files.end()) return dfd::Status::NotFound("no");
    return std::unique_ptr<dfd::ReadHandle>(std::make_unique<Handle>(it->second));
  }
  dfd::Result<dfd::KnownDigests> known_digests(std::string_view) noexcept override {
    ++asked;
    if (!known) return dfd::Status::NotSupported("not known");
    return *known;
  }

 private:
  struct Handle : dfd::ReadHandle {
    explicit Handle(const std::string& c) : content(c) {}
    std::uint64_t size() const noexcept override { return content.size(); }
    dfd::Result<std::size_t> read_at(std::uint64_t off, void* buf,
                                     std::size_t len) noexcept override {
      if (off >= content.size()) return std::size_t{0};
      len = std::min<std::size_t>(len, content.size() - off);
      std::memcpy(buf, content.data() + off, len);
      return len;
    }
    const std::string& content;
  };
};

class KnownDigestsIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = dfd::test::load_plugin("digest-openssl", digest_host_);
    ASSERT_TRUE(d.ok()) << d.status().to_string();
    digest_ = std::move(d.value());
    storage_.files["a.bin"] = "0123456789";  // 3 chunks of 4
  }
  std::shared_ptr<const dfd::host::IndexedFile> index_once(bool knows) {
    ContentIndexOptions o;
    o.chunk_size = 4;
    o.storage_knows_digests = knows;
    ContentIndex index(storage_, *digest_.as<dfd::Digest>(), host_.logger(), host_.metrics(), o);
    EXPECT_TRUE(index.open().ok());
    auto r = index.rescan();
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    for (auto& f : index.all()) {
      if (f->path == "a.bin") return f;
    }
    return nullptr;
  }
  static dfd::KnownDigests known(std::string alg, std::uint64_t chunk_size, std::size_t chunks) {
    return {std::move(alg), std::string(64, 'f'), chunk_size,
            std::vector<std::string>(chunks, std::string(64, 'e'))};
  }
  static constexpr const char* kRealUid =  // sha256("0123456789")
      "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882";

  dfd::test::FakeHost digest_host_{{}, "digest-openssl"};
  dfd::test::LoadedPlugin digest_;
  dfd::test::FakeHost host_;
  KnowingStorage storage_;
};

TEST_F(KnownDigestsIndex, MatchingDigestsIndexTheFileWithoutOpeningIt) {
  storage_.known = known("sha256", 4, 3);
  auto f = index_once(true);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->uid, std::string(64, 'f'));
  EXPECT_EQ(f->chunks.size(), 3u);
  EXPECT_EQ(f->chunks[2], std::string(64, 'e'));
  EXPECT_EQ(storage_.opens.load(), 0) << "the file was read although its digests were known";
  EXPECT_EQ(host_.metric("dfd_index_files_known_total"), 1.0);
}

TEST_F(KnownDigestsIndex, AnOlderStorageIsNeverAsked) {
  storage_.known = known("sha256", 4, 3);
  auto f = index_once(false);  // the plugin's ABI minor is < 4: no known_digests slot
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(storage_.asked.load(), 0);
  EXPECT_EQ(storage_.opens.load(), 1);
  EXPECT_EQ(f->uid, kRealUid);
}

TEST_F(KnownDigestsIndex, OtherChunkSizeOrAlgorithmIsHashedAndSaidOnce) {
  storage_.files["b.bin"] = "abcdefghij";
  storage_.known = known("sha256", 8, 2);
  auto f = index_once(true);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(storage_.opens.load(), 2);
  EXPECT_EQ(f->uid, kRealUid);
  std::string log = host_.log_text();
  EXPECT_NE(log.find("chunk size 8, this index uses 4"), std::string::npos) << log;
  EXPECT_EQ(log.find("chunk size 8"), log.rfind("chunk size 8")) << "said more than once:\n" << log;

  storage_.known = known("sha512", 4, 3);
  storage_.opens = 0;
  ASSERT_NE(index_once(true), nullptr);
  EXPECT_EQ(storage_.opens.load(), 2);
  EXPECT_NE(host_.log_text().find("algorithm 'sha512'"), std::string::npos);
}

TEST_F(KnownDigestsIndex, NotSupportedIsHashedQuietly) {
  auto f = index_once(true);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(storage_.asked.load(), 1);
  EXPECT_EQ(storage_.opens.load(), 1);
  EXPECT_EQ(f->uid, kRealUid);
  EXPECT_EQ(host_.log_text().find("known digests"), std::string::npos) << host_.log_text();
}

}  // namespace
