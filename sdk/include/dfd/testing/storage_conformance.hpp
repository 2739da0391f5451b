// dfd SDK testing: the storage conformance kit (header-only, needs GoogleTest).
//
// Every Storage plugin must pass the same checks of the storage.hpp contract: list() names exactly
// the servable files with their sizes, stat() agrees with list(), open()/read_at() return the
// right bytes at the start, middle and end, at and past the end, from four threads at once, and
// unsafe, private or absent paths are refused (kInvalidArgument or kNotFound) without leaking a
// descriptor.
//
// How to use it, in ONE .cpp file of a test executable linked with GTest::gtest_main (the tests
// are defined in this header, so include it in exactly one translation unit per executable):
//
//   #include "dfd/testing/storage_conformance.hpp"
//
//   // Materialises `files` in the backend's own form and returns a Storage serving them. It is
//   // called once per test; `owner` keeps everything alive (a loaded plugin, a temp directory)
//   // and is released after the test.
//   dfd::conformance::StorageUnderTest make_my_storage(
//       const std::vector<dfd::conformance::ConformanceFile>& files) { ... }
//
//   DFD_STORAGE_CONFORMANCE(MyStorage, make_my_storage);
//
// Every file in `files` must be written into the backend's source, including those marked
// `hidden` (dot names such as ".hidden" or "dir/.secret"), which the backend must then neither
// list nor serve. If the backend has a notion of "outside the root", put a file named "x" and one
// named "b" just outside it so that "../x" or "a/../../b" would name a real file if the backend
// followed them.
//
// Thread-safety: the kit itself calls read_at() from four threads on one handle (the contract
// says handles are thread-safe); everything else runs on the test thread.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "dfd/storage.hpp"

namespace dfd::conformance {

// One file of the conformance set.
struct ConformanceFile {
  std::string path;     // relative, '/'-separated
  std::string content;  // exact bytes
  bool hidden = false;  // private (a dot segment): must be present in the source, never served
};

// What a factory returns: the storage under test and whatever keeps it alive.
struct StorageUnderTest {
  Storage* storage = nullptr;
  std::shared_ptr<void> owner;  // released (destroying the storage) after each test
};

using StorageFactory = std::function<StorageUnderTest(const std::vector<ConformanceFile>&)>;

struct StorageConformanceParam {
  std::string name;  // test-name suffix: letters, digits, '_'
  StorageFactory make;
};
inline void PrintTo(const StorageConformanceParam& p, std::ostream* os) {
  *os << p.name;
}

namespace detail {

// Deterministic bytes (xorshift64*), so failures reproduce.
inline std::string pseudo_random(std::size_t n, std::uint64_t seed) {
  std::string s(n, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s[i] = static_cast<char>((x * 0x2545F4914F6CDD1DULL) >> 56);
  }
  return s;
}

inline std::string text(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i) s += "line " + std::to_string(i) + "\n";
  s.resize(n);
  return s;
}

// Open descriptors of this process, or -1 where that cannot be counted.
inline int open_descriptor_count() {
#if defined(__linux__)
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
#else
  return -1;
#endif
}

inline bool is_refusal(const Status& s) {
  return s.code() == Code::kInvalidArgument || s.code() == Code::kNotFound;
}

// Reads [offset, offset + len) with as many read_at calls as needed; stops at a 0 return.
inline Result<std::string> read_range(ReadHandle& h, std::uint64_t offset, std::size_t len) {
  std::string out;
  while (out.size() < len) {
    std::string buf(std::min<std::size_t>(len - out.size(), 65536), '\0');
    auto n = h.read_at(offset + out.size(), buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    if (*n > buf.size()) return Status::Internal("read_at returned more than asked");
    out.append(buf.data(), *n);
  }
  return out;
}

}  // namespace detail

// The file set every backend is checked against.
inline std::vector<ConformanceFile> storage_conformance_files() {
  using detail::pseudo_random;
  using detail::text;
  return {
      {"hello.txt", "hello, world\n", false},
      {"empty.bin", "", false},
      {"one.bin", "x", false},
      {"name with spaces.txt", "spaces are fine\n", false},
      {"dir/second.txt", text(10000), false},
      {"dir/sub/data.bin", pseudo_random((1 << 20) + 4097, 42), false},
      {"dir/sub/deeper/small.bin", pseudo_random(777, 7), false},
      {".hidden", "private\n", true},
      {"dir/.secret", "private\n", true},
      {".private/inside.txt", "private\n", true},
  };
}

// Paths that no backend may ever serve.
inline std::vector<std::string> storage_unsafe_paths() {
  return {"../x",
          "/etc/passwd",
          "a/../../b",
          ".hidden",
          "",
          ".",
          "..",
          "./hello.txt",
          "/hello.txt",
          "hello.txt/",
          "dir//second.txt",
          "dir/./second.txt",
          "dir/../hello.txt",
          "dir\\second.txt",
          std::string("hello.txt\0.bin", 14),
          "../../../../../../../../etc/passwd",
          "dir/.secret",
          ".private/inside.txt"};
}

// The fixture behind the DfdStorageConformance tests.
class StorageConformanceTest : public ::testing::TestWithParam<StorageConformanceParam> {
 protected:
  void SetUp() override {
    files_ = storage_conformance_files();
    sut_ = GetParam().make(files_);
    ASSERT_NE(sut_.storage, nullptr) << "the factory returned no storage";
  }
  void TearDown() override { sut_ = StorageUnderTest{}; }

  Storage& storage() { return *sut_.storage; }
  std::vector<ConformanceFile> visible() const {
    std::vector<ConformanceFile> v;
    for (auto& f : files_) {
      if (!f.hidden) v.push_back(f);
    }
    return v;
  }
  const ConformanceFile& file(const std::string& path) const {
    for (auto& f : files_) {
      if (f.path == path) return f;
    }
    static const ConformanceFile none;
    ADD_FAILURE() << "no conformance file " << path;
    return none;
  }
  std::unique_ptr<ReadHandle> must_open(const std::string& path) {
    auto h = storage().open(path);
    EXPECT_TRUE(h.ok()) << "open('" << path << "'): " << h.status().to_string();
    if (!h.ok()) return nullptr;
    EXPECT_NE(h->get(), nullptr) << "open('" << path << "') returned a null handle";
    return std::move(h.value());
  }

  std::vector<ConformanceFile> files_;
  StorageUnderTest sut_;
};

}  // namespace dfd::conformance

// GoogleTest needs the suite name unqualified at global scope.
using DfdStorageConformance = dfd::conformance::StorageConformanceTest;

// list(): exactly the visible files, each once, with their sizes and safe paths.
TEST_P(DfdStorageConformance, ListsExactlyTheVisibleFilesWithSizes) {
  auto listed = storage().list();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  std::map<std::string, std::uint64_t> got;
  for (auto& e : *listed) {
    EXPECT_TRUE(dfd::is_safe_relative_path(e.path)) << "listed an unsafe path '" << e.path << "'";
    EXPECT_TRUE(got.emplace(e.path, e.size).second) << "listed twice: " << e.path;
  }
  std::map<std::string, std::uint64_t> want;
  for (auto& f : visible()) want.emplace(f.path, f.content.size());
  EXPECT_EQ(got, want);
}

// stat(): agrees with list() on size and mtime; the path comes back as asked.
TEST_P(DfdStorageConformance, StatAgreesWithList) {
  auto listed = storage().list();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  for (auto& e : *listed) {
    auto s = storage().stat(e.path);
    ASSERT_TRUE(s.ok()) << "stat('" << e.path << "'): " << s.status().to_string();
    EXPECT_EQ(s->path, e.path);
    EXPECT_EQ(s->size, e.size) << e.path;
    EXPECT_EQ(s->mtime_ns, e.mtime_ns) << e.path;
  }
}

// open() + read_at(): every visible file reads back byte for byte; size() is right.
TEST_P(DfdStorageConformance, ReadsEveryFileExactly) {
  for (auto& f : visible()) {
    auto h = must_open(f.path);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->size(), f.content.size()) << f.path;
    auto all = dfd::conformance::detail::read_range(*h, 0, f.content.size() + 100);
    ASSERT_TRUE(all.ok()) << f.path << ": " << all.status().to_string();
    EXPECT_TRUE(*all == f.content) << f.path << ": content differs (got " << all->size()
                                   << " bytes, want " << f.content.size() << ")";
  }
}

// read_at() at the start, the middle, across and at the end, past the end, and with len 0.
TEST_P(DfdStorageConformance, ReadAtPositions) {
  using dfd::conformance::detail::read_range;
  const std::string& c = file("dir/sub/data.bin").content;
  const std::uint64_t n = c.size();
  auto h = must_open("dir/sub/data.bin");
  ASSERT_NE(h, nullptr);
  struct Case {
    std::uint64_t off;
    std::size_t len;
  };
  for (Case k : {Case{0, 1}, Case{0, 100}, Case{n / 2, 1000}, Case{n / 2 - 3, 65536 + 7},
                 Case{n - 10, 10}, Case{n - 1, 1}, Case{n - 5, 100}, Case{4096, 1 << 20}}) {
    auto got = read_range(*h, k.off, k.len);
    ASSERT_TRUE(got.ok()) << "read_at(" << k.off << ", " << k.len
                          << "): " << got.status().to_string();
    std::string want = c.substr(static_cast<std::size_t>(k.off), k.len);
    EXPECT_TRUE(*got == want) << "read_at(" << k.off << ", " << k.len << "): got " << got->size()
                              << " bytes, want " << want.size();
  }
  // At and past the end: 0 bytes (kOutOfRange is tolerated).
  char buf[16];
  for (std::uint64_t off : {n, n + 1, n + 1000000, std::uint64_t{1} << 62}) {
    auto r = h->read_at(off, buf, sizeof buf);
    if (r.ok()) {
      EXPECT_EQ(*r, 0u) << "read_at(" << off << ") past the end of a " << n << "-byte file";
    } else {
      EXPECT_EQ(r.status().code(), dfd::Code::kOutOfRange) << r.status().to_string();
    }
  }
  auto zero = h->read_at(0, buf, 0);
  ASSERT_TRUE(zero.ok()) << zero.status().to_string();
  EXPECT_EQ(*zero, 0u);

  auto e = must_open("empty.bin");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size(), 0u);
  auto r = e->read_at(0, buf, sizeof buf);
  if (r.ok()) {
    EXPECT_EQ(*r, 0u);
  }
}

// fd(), when offered, reads the same bytes as read_at().
TEST_P(DfdStorageConformance, DescriptorWhenOfferedMatches) {
  auto h = must_open("dir/sub/data.bin");
  ASSERT_NE(h, nullptr);
  int fd = h->fd();
  if (fd < 0) GTEST_SKIP() << "this backend offers no descriptor (read_at only)";
#if defined(__linux__)
  const std::string& c = file("dir/sub/data.bin").content;
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), c.size());
  std::string buf(4096, '\0');
  ssize_t got = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(c.size() / 2));
  ASSERT_EQ(got, static_cast<ssize_t>(buf.size()));
  EXPECT_TRUE(buf == c.substr(c.size() / 2, buf.size()));
#endif
}

// One handle, four threads, many random reads at once.
TEST_P(DfdStorageConformance, ConcurrentReadAtFromFourThreads) {
  const std::string& c = file("dir/sub/data.bin").content;
  auto h = must_open("dir/sub/data.bin");
  ASSERT_NE(h, nullptr);
  std::atomic<int> errors{0}, mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t x = 0x1234567ULL * (t + 1);
      std::string buf(70000, '\0');
      for (int i = 0; i < 300; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::uint64_t off = x % c.size();
        std::size_t len = static_cast<std::size_t>((x >> 20) % buf.size()) + 1;
        auto r = h->read_at(off, buf.data(), len);
        if (!r.ok()) {
          ++errors;
          continue;
        }
        std::size_t want = std::min<std::size_t>(len, c.size() - static_cast<std::size_t>(off));
        if (*r == 0 || *r > want ||
            std::memcmp(buf.data(), c.data() + off, static_cast<std::size_t>(*r)) != 0) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

// Unsafe and private paths: refused by stat() and open(), never listed, no descriptor leaked.
TEST_P(DfdStorageConformance, UnsafeAndPrivatePathsAreRefused) {
  int before = dfd::conformance::detail::open_descriptor_count();
  for (const std::string& p : dfd::conformance::storage_unsafe_paths()) {
    auto s = storage().stat(p);
    EXPECT_FALSE(s.ok()) << "stat('" << p << "') succeeded";
    if (!s.ok()) {
      EXPECT_TRUE(dfd::conformance::detail::is_refusal(s.status()))
          << "stat('" << p << "'): " << s.status().to_string();
    }
    auto h = storage().open(p);
    EXPECT_FALSE(h.ok()) << "open('" << p << "') succeeded";
    if (!h.ok()) {
      EXPECT_TRUE(dfd::conformance::detail::is_refusal(h.status()))
          << "open('" << p << "'): " << h.status().to_string();
    }
  }
  int after = dfd::conformance::detail::open_descriptor_count();
  EXPECT_EQ(before, after) << "refused paths left descriptors open";
}

// Absent files, directories and paths through a file: kNotFound.
TEST_P(DfdStorageConformance, AbsentFilesAreNotFound) {
  for (const char* p : {"no-such-file.bin", "dir/none.txt", "nodir/none.txt", "dir", "dir/sub",
                        "dir/sub/data.bin/more"}) {
    auto s = storage().stat(p);
    ASSERT_FALSE(s.ok()) << "stat('" << p << "') succeeded";
    EXPECT_EQ(s.status().code(), dfd::Code::kNotFound) << p << ": " << s.status().to_string();
    auto h = storage().open(p);
    ASSERT_FALSE(h.ok()) << "open('" << p << "') succeeded";
    EXPECT_EQ(h.status().code(), dfd::Code::kNotFound) << p << ": " << h.status().to_string();
  }
}

// Many handles at once, all independent, all released on destruction.
TEST_P(DfdStorageConformance, HandlesAreIndependentAndReleased) {
  using dfd::conformance::detail::open_descriptor_count;
  using dfd::conformance::detail::read_range;
  int before = open_descriptor_count();
  {
    std::vector<std::unique_ptr<dfd::ReadHandle>> hs;
    for (int i = 0; i < 64; ++i) {
      auto h = must_open(i % 2 ? "hello.txt" : "dir/second.txt");
      ASSERT_NE(h, nullptr);
      hs.push_back(std::move(h));
    }
    for (std::size_t i = 0; i < hs.size(); ++i) {
      const std::string& c = file(i % 2 ? "hello.txt" : "dir/second.txt").content;
      auto r = read_range(*hs[i], 1, 5);
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      EXPECT_EQ(*r, c.substr(1, 5));
    }
  }
  int after = open_descriptor_count();
  EXPECT_EQ(before, after) << "closed handles left descriptors open";
}

// Instantiates every conformance test for one backend: NAME is an identifier (test-name prefix),
// FACTORY a StorageFactory (a function or lambda).
#define DFD_STORAGE_CONFORMANCE(NAME, FACTORY)                                                \
  INSTANTIATE_TEST_SUITE_P(                                                                   \
      NAME, DfdStorageConformance,                                                            \
      ::testing::Values(::dfd::conformance::StorageConformanceParam{#NAME, FACTORY}),         \
      [](const ::testing::TestParamInfo<::dfd::conformance::StorageConformanceParam>& info) { \
        return info.param.name;                                                               \
      })
