// storage-offbyone: a deliberately non-conforming storage plugin for the dfd-plugin-check tests.
// It is storage-fs in miniature (files under `root`, dot names private, paths checked) except that
// a read at an offset of 4096 or more returns the bytes one further on: reads from the start are
// right, everything else is wrong. dfd-plugin-check must report exactly the checks that read past
// 4096 bytes (ReadsEveryFileExactly, ReadAtPositions, ConcurrentReadAtFromFourThreads) as FAIL.
// It requires a digest plugin (and refuses to start without one), so that the checker's config
// composition is tested too: a provider from --config, or digest-openssl by default.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "dfd/dfd.hpp"

namespace dfd::offbyone {
namespace {

class Handle final : public ReadHandle {
 public:
  Handle(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ~Handle() override { ::close(fd_); }
  std::uint64_t size() const noexcept override { return size_; }
  Result<std::size_t> read_at(std::uint64_t offset, void* buf, std::size_t len) noexcept override {
    if (offset >= 4096) ++offset;  // the defect
    if (offset >= size_) return std::size_t{0};
    ssize_t n = ::pread(fd_, buf, len, static_cast<off_t>(offset));
    if (n < 0) return Status::IoError("read failed");
    return static_cast<std::size_t>(n);
  }

 private:
  int fd_;
  std::uint64_t size_;
};

std::int64_t mtime_ns(const struct stat& st) {
  return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

class OffByOneStorage final : public Storage {
 public:
  explicit OffByOneStorage(HostServices& host) : host_(host) {}
  Status init() {
    DFD_RETURN_IF_ERROR(host_.config().allow_only({"root"}));
    auto root = host_.config().get_string("root");
    if (!root.ok()) return root.status();
    root_ = *root;
    return Status::Ok();
  }

  Status start() noexcept override {
    if (host_.find_plugin(PluginKind::kDigest) == nullptr) {
      return Status::FailedPrecondition("storage-offbyone: no digest plugin was loaded");
    }
    return Status::Ok();
  }

  Result<std::vector<FileEntry>> list() noexcept override {
    std::vector<FileEntry> out;
    walk("", &out);
    return out;
  }
  Result<FileEntry> stat(std::string_view path) noexcept override {
    struct stat st {};
    DFD_RETURN_IF_ERROR(check(path, &st));
    return FileEntry{std::string(path), static_cast<std::uint64_t>(st.st_size), mtime_ns(st)};
  }
  Result<std::unique_ptr<ReadHandle>> open(std::string_view path) noexcept override {
    struct stat st {};
    DFD_RETURN_IF_ERROR(check(path, &st));
    int fd = ::open((root_ + "/" + std::string(path)).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return Status::NotFound("cannot open");
    return std::unique_ptr<ReadHandle>(
        std::make_unique<Handle>(fd, static_cast<std::uint64_t>(st.st_size)));
  }

 private:
  Status check(std::string_view path, struct stat* st) const {
    if (!is_safe_relative_path(path)) return Status::InvalidArgument("unsafe path");
    if (::lstat((root_ + "/" + std::string(path)).c_str(), st) != 0 || !S_ISREG(st->st_mode)) {
      return Status::NotFound("no such file");
    }
    return Status::Ok();
  }
  void walk(const std::string& rel, std::vector<FileEntry>* out) const {
    DIR* d = ::opendir((root_ + "/" + rel).c_str());
    if (d == nullptr) return;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::string p = rel.empty() ? e->d_name : rel + "/" + e->d_name;
      struct stat st {};
      if (::lstat((root_ + "/" + p).c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) walk(p, out);
      if (S_ISREG(st.st_mode)) {
        out->push_back({p, static_cast<std::uint64_t>(st.st_size), mtime_ns(st)});
      }
    }
    ::closedir(d);
  }

  HostServices& host_;
  std::string root_;
};

}  // namespace
}  // namespace dfd::offbyone

namespace {
const dfd::PluginKind kNeeds[] = {dfd::PluginKind::kDigest};
}
DFD_PLUGIN(dfd::PluginKind::kStorage, "storage-offbyone", "1.0.0",
           "Test plugin: reads past 4096 bytes are off by one", kNeeds, 1,
           &dfd::create_plugin<dfd::offbyone::OffByOneStorage>,
           &dfd::destroy_plugin<dfd::offbyone::OffByOneStorage>)
