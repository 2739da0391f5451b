// storage-fs specifics beyond the conformance kit: links, dotfiles, the settle window, files over
// 4 GiB, special files, config errors, health.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dfd/dfd.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace {

using dfd::Code;
using dfd::test::ConfigValue;
using dfd::test::FakeHost;
using dfd::test::TempDir;
using dfd::test::write_file;

class StorageFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.file("root");
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
  }
  // Loads storage-fs over root_ with `extra` config keys; fails the test on error.
  dfd::Storage* load(std::map<std::string, ConfigValue> extra = {}) {
    std::map<std::string, ConfigValue> cfg{{"root", root_}, {"settle_ms", std::int64_t{0}}};
    for (auto& [k, v] : extra) cfg[k] = v;
    host_ = std::make_unique<FakeHost>(cfg, "storage-fs");
    auto lp = dfd::test::load_plugin("storage-fs", *host_);
    EXPECT_TRUE(lp.ok()) << lp.status().to_string();
    if (!lp.ok()) return nullptr;
    plugin_ = std::move(lp.value());
    return plugin_.as<dfd::Storage>();
  }
  std::vector<std::string> listed(dfd::Storage& s) {
    auto l = s.list();
    EXPECT_TRUE(l.ok()) << l.status().to_string();
    std::vector<std::string> out;
    if (l.ok()) {
      for (auto& e : *l) out.push_back(e.path);
    }
    return out;
  }
  static bool has(const std::vector<std::string>& v, const std::string& p) {
    return std::find(v.begin(), v.end(), p) != v.end();
  }
  std::string read_all(dfd::Storage& s, const std::string& path) {
    auto h = s.open(path);
    EXPECT_TRUE(h.ok()) << path << ": " << h.status().to_string();
    if (!h.ok()) return {};
    std::string out((*h)->size(), '\0');
    auto n = (*h)->read_at(0, out.data(), out.size());
    EXPECT_TRUE(n.ok());
    out.resize(n.ok() ? *n : 0);
    return out;
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<FakeHost> host_;
  dfd::test::LoadedPlugin plugin_;  // destroyed before host_
};

TEST_F(StorageFsTest, SymlinkInsideRootIsListedAndServed) {
  write_file(root_ + "/data/real.txt", "real bytes\n");
  ASSERT_EQ(::symlink("data/real.txt", (root_ + "/alias.txt").c_str()), 0);
  ASSERT_EQ(::symlink("data", (root_ + "/linkdir").c_str()), 0);
  auto* s = load();
  ASSERT_NE(s, nullptr);
  auto l = listed(*s);
  EXPECT_TRUE(has(l, "data/real.txt"));
  EXPECT_TRUE(has(l, "alias.txt"));
  EXPECT_FALSE(has(l, "linkdir/real.txt")) << "linked directories are not descended";
  EXPECT_EQ(read_all(*s, "alias.txt"), "real bytes\n");
  EXPECT_EQ(read_all(*s, "linkdir/real.txt"), "real bytes\n");
  auto st = s->stat("alias.txt");
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_EQ(st->size, 11u);
}

TEST_F(StorageFsTest, SymlinkLeavingRootIsNeitherListedNorServed) {
  write_file(dir_.file("secret.txt"), "outside the root\n");
  write_file(dir_.file("outdir/f.txt"), "outside the root\n");
  write_file(root_ + "/.private/p.txt", "private\n");
  write_file(root_ + "/ok.txt", "ok\n");
  ASSERT_EQ(::symlink("../secret.txt", (root_ + "/relative-escape.txt").c_str()), 0);
  ASSERT_EQ(::symlink(dir_.file("secret.txt").c_str(), (root_ + "/absolute-escape.txt").c_str()),
            0);
  ASSERT_EQ(::symlink(dir_.file("outdir").c_str(), (root_ + "/outdir").c_str()), 0);
  ASSERT_EQ(::symlink(".private/p.txt", (root_ + "/to-private.txt").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("nowhere", (root_ + "/dangling").c_str()), 0);
  auto* s = load();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(listed(*s), std::vector<std::string>{"ok.txt"});
  for (const char* p : {"relative-escape.txt", "absolute-escape.txt", "outdir/f.txt",
                        "to-private.txt", "passwd", "dangling"}) {
    auto st = s->stat(p);
    ASSERT_FALSE(st.ok()) << p;
    EXPECT_EQ(st.status().code(), Code::kNotFound) << p << ": " << st.status().to_string();
    auto h = s->open(p);
    ASSERT_FALSE(h.ok()) << p;
    EXPECT_EQ(h.status().code(), Code::kNotFound) << p << ": " << h.status().to_string();
  }
}

TEST_F(StorageFsTest, FollowSymlinksFalseRefusesEveryLink) {
  write_file(root_ + "/data/real.txt", "real\n");
  ASSERT_EQ(::symlink("data/real.txt", (root_ + "/alias.txt").c_str()), 0);
  ASSERT_EQ(::symlink("data", (root_ + "/linkdir").c_str()), 0);
  auto* s = load({{"follow_symlinks", false}});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(listed(*s), std::vector<std::string>{"data/real.txt"});
  for (const char* p : {"alias.txt", "linkdir/real.txt"}) {
    auto h = s->open(p);
    ASSERT_FALSE(h.ok()) << p;
    EXPECT_EQ(h.status().code(), Code::kNotFound) << h.status().to_string();
  }
  EXPECT_EQ(read_all(*s, "data/real.txt"), "real\n");
}

TEST_F(StorageFsTest, DotfilesAndDotDirectoriesAreSkipped) {
  write_file(root_ + "/visible.txt", "v");
  write_file(root_ + "/.env", "SECRET=1");
  write_file(root_ + "/.git/config", "[core]");
  write_file(root_ + "/a/.b/c.txt", "c");
  write_file(root_ + "/a/d.txt", "d");
  auto* s = load();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(listed(*s), (std::vector<std::string>{"a/d.txt", "visible.txt"}));
  EXPECT_EQ(s->open(".env").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->open("a/.b/c.txt").status().code(), Code::kInvalidArgument);
}

TEST_F(StorageFsTest, FileInSettleWindowIsSkippedThenListed) {
  write_file(root_ + "/old.txt", "old");
  struct timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};  // 2001
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ + "/old.txt").c_str(), old_times, 0), 0);
  write_file(root_ + "/fresh.txt", "being written");
  auto* s = load({{"settle_ms", std::int64_t{500}}});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(listed(*s), std::vector<std::string>{"old.txt"});
  auto st = s->stat("fresh.txt");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), Code::kNotFound);
  EXPECT_NE(st.status().message().find("still being written"), std::string::npos);
  EXPECT_FALSE(s->open("fresh.txt").ok());

  host_->advance(std::chrono::milliseconds(600));  // the injected clock drives the window
  EXPECT_EQ(listed(*s), (std::vector<std::string>{"fresh.txt", "old.txt"}));
  EXPECT_EQ(read_all(*s, "fresh.txt"), "being written");
}

// Issue 14: what a listing leaves out is logged at info level with the reason, once while it
// stays left out (a rescan every minute must not repeat it), and again after a change.
TEST_F(StorageFsTest, EverySkippedEntryIsLoggedOnceAtInfoWithItsReason) {
  write_file(root_ + "/fresh.txt", "being written");
  write_file(root_ + "/.hidden", "private");
  ASSERT_EQ(::mkfifo((root_ + "/pipe").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("/etc/hostname", (root_ + "/out-link").c_str()), 0);
  auto* s = load({{"settle_ms", std::int64_t{500}}});
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(listed(*s).empty());
  const std::string info = "[" + std::to_string(static_cast<int>(dfd::LogLevel::kInfo)) + "] ";
  auto count = [&](const std::string& needle) {
    std::string log = host_->log_text();
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  };
  const std::string fresh =
      info +
      "not offered: 'fresh.txt': modified less than settle_ms = 500 ago: still being written";
  EXPECT_EQ(count(fresh), 1u) << host_->log_text();
  EXPECT_EQ(count(info + "not offered: '.hidden': names starting with '.' are private"), 1u);
  EXPECT_EQ(count(info + "not offered: 'pipe': not a regular file"), 1u);
  EXPECT_EQ(count(info + "not offered: 'out-link': a symbolic link that is dangling or leads out"),
            1u);

  EXPECT_TRUE(listed(*s).empty());  // a second scan: nothing new to say
  EXPECT_EQ(count(fresh), 1u) << host_->log_text();
  EXPECT_EQ(count("not offered: 'pipe'"), 1u);

  host_->advance(std::chrono::milliseconds(600));  // settled: offered, no longer logged
  EXPECT_EQ(listed(*s), std::vector<std::string>{"fresh.txt"});
  EXPECT_EQ(count(fresh), 1u);
  // Being written again (modified "now" on the host's clock, which runs 600 ms ahead): said again.
  write_file(root_ + "/fresh.txt", "rewritten");
  struct timespec later[2] = {{::time(nullptr) + 10, 0}, {::time(nullptr) + 10, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ + "/fresh.txt").c_str(), later, 0), 0);
  EXPECT_TRUE(listed(*s).empty());
  EXPECT_EQ(count(fresh), 2u) << host_->log_text();
}

TEST_F(StorageFsTest, SettleWindowWithRealTime) {
  write_file(root_ + "/fresh.txt", "x");
  auto* s = load({{"settle_ms", std::int64_t{150}}});
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(listed(*s).empty());
  ::usleep(250 * 1000);
  EXPECT_EQ(listed(*s), std::vector<std::string>{"fresh.txt"});
}

TEST_F(StorageFsTest, SparseFileOverFourGiB) {
  const std::uint64_t size = 5ULL << 30;
  const std::string path = root_ + "/huge.bin";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  const std::string tail = "tail-marker";
  const std::string mid = "past-4GiB";
  const std::uint64_t mid_off = (4ULL << 30) + 7;
  ASSERT_EQ(::pwrite(fd, tail.data(), tail.size(), static_cast<off_t>(size - tail.size())),
            static_cast<ssize_t>(tail.size()));
  ASSERT_EQ(::pwrite(fd, mid.data(), mid.size(), static_cast<off_t>(mid_off)),
            static_cast<ssize_t>(mid.size()));
  ::close(fd);

  auto* s = load();
  ASSERT_NE(s, nullptr);
  auto l = s->list();
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].size, size);
  auto h = s->open("huge.bin");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_EQ((*h)->size(), size);
  std::string buf(64, '\0');
  auto n = (*h)->read_at(size - tail.size(), buf.data(), buf.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf.substr(0, *n), tail);
  n = (*h)->read_at(mid_off, buf.data(), mid.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf.substr(0, *n), mid);
  n = (*h)->read_at((3ULL << 30), buf.data(), 8);  // a hole reads as zeros
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf.substr(0, *n), std::string(8, '\0'));
  n = (*h)->read_at(size, buf.data(), buf.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST_F(StorageFsTest, SpecialFilesAreSkippedAndNeverOpened) {
  write_file(root_ + "/plain.txt", "p");
  ASSERT_EQ(::mkfifo((root_ + "/pipe").c_str(), 0644), 0);
  auto* s = load();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(listed(*s), std::vector<std::string>{"plain.txt"});
  auto h = s->open("pipe");  // must not block waiting for a writer
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), Code::kNotFound);
}

// The create() error for a config, or "" when it loads.
std::string config_error(std::map<std::string, ConfigValue> cfg) {
  FakeHost host(std::move(cfg), "storage-fs");
  auto lp = dfd::test::load_plugin("storage-fs", host);
  return lp.ok() ? std::string() : lp.status().to_string();
}

TEST(StorageFsConfig, RootMustBeAnExistingDirectory) {
  TempDir dir;
  std::string e = config_error({{"root", dir.file("missing")}});
  EXPECT_NE(e.find("invalid_argument"), std::string::npos) << e;
  EXPECT_NE(e.find("'root'"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;

  e = config_error({});
  EXPECT_NE(e.find("'root'"), std::string::npos) << e;

  write_file(dir.file("a-file"), "x");
  e = config_error({{"root", dir.file("a-file")}});
  EXPECT_NE(e.find("'root'"), std::string::npos) << e;
  EXPECT_NE(e.find("not a directory"), std::string::npos) << e;

  e = config_error({{"root", std::int64_t{3}}});
  EXPECT_NE(e.find("'root'"), std::string::npos) << e;
}

TEST(StorageFsConfig, OtherKeysAreChecked) {
  TempDir dir;
  std::string e = config_error({{"root", dir.path()}, {"settle_ms", std::int64_t{-1}}});
  EXPECT_NE(e.find("'settle_ms'"), std::string::npos) << e;
  e = config_error({{"root", dir.path()}, {"follow_symlink", true}});
  EXPECT_NE(e.find("'follow_symlink'"), std::string::npos) << e;
  e = config_error({{"root", dir.path()}, {"follow_symlinks", std::string("yes")}});
  EXPECT_NE(e.find("'follow_symlinks'"), std::string::npos) << e;
  EXPECT_EQ(config_error({{"root", dir.path()}}), "");
}

TEST_F(StorageFsTest, HealthFollowsTheRoot) {
  auto* s = load();
  ASSERT_NE(s, nullptr);
  dfd::Health h = s->health();
  EXPECT_TRUE(h.healthy) << h.detail;
  ASSERT_EQ(::rmdir(root_.c_str()), 0);
  h = s->health();
  EXPECT_FALSE(h.healthy);
  EXPECT_NE(h.detail.find(root_), std::string::npos) << h.detail;
  auto l = s->list();
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("No such file"), std::string::npos) << l.status().to_string();
}

}  // namespace
