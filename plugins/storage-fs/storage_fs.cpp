// storage-fs: serves the regular files under one directory (the `root`).
//
// Config keys (docs/contracts.md): `root` (required, an existing directory), `settle_ms` (files
// modified more recently are still being written: not listed, not served; default 2000),
// `follow_symlinks` (default true; a link whose real path leaves the root is never listed or
// served).
//
// Safety: every path is validated with dfd::is_safe_relative_path, then (when links are followed)
// resolved with realpath() and required to stay inside realpath(root) without private (dot)
// segments, and finally opened by walking the resolved components from a descriptor of the root
// with O_NOFOLLOW on each one. A link swapped in between the two steps therefore fails the walk
// instead of escaping the root.
//
// Thread-safety: all state is fixed after init() except the record of what the last listing left
// out (under a mutex); list/stat/open/health may run concurrently.
// A handle's read_at() is pread() and safe from many threads at once.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dfd/dfd.hpp"

namespace dfd::storage_fs {
namespace {

static_assert(sizeof(off_t) == 8, "storage-fs needs 64-bit file offsets");

constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxReadChunk = std::size_t{1} << 30;

std::string errno_text(int e) {
  char buf[256];
  return ::strerror_r(e, buf, sizeof buf);  // GNU variant: returns the message
}

// A path as it may appear in a message: control bytes replaced, long input cut.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (s.size() > 200) out += "...";
  return out;
}

std::int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
}

// The Status for a failed system call on `path`.
Status errno_status(std::string_view what, std::string_view path, int e) {
  std::string m =
      "storage-fs: " + std::string(what) + " '" + printable(path) + "': " + errno_text(e);
  switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:  // O_NOFOLLOW met a symbolic link
      return Status::NotFound(std::move(m));
    case ENAMETOOLONG:
      return Status::InvalidArgument(std::move(m));
    default:
      return Status::IoError(std::move(m));
  }
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

class FsReadHandle final : public ReadHandle {
 public:
  FsReadHandle(UniqueFd fd, std::uint64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}

  std::uint64_t size() const noexcept override { return size_; }
  int fd() const noexcept override { return fd_.get(); }

  // Reads within the size seen at open (a consistent view even if the file grows).
  Result<std::size_t> read_at(std::uint64_t offset, void* buf, std::size_t len) noexcept override {
    return guard("storage-fs: read_at", [&]() -> Result<std::size_t> {
      if (offset >= size_ || len == 0) return std::size_t{0};
      std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>({len, size_ - offset, kMaxReadChunk}));
      for (;;) {
        ssize_t n = ::pread(fd_.get(), buf, want, static_cast<off_t>(offset));
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        int e = errno;
        return Status::IoError("storage-fs: read '" + printable(path_) + "' at offset " +
                               std::to_string(offset) + ": " + errno_text(e));
      }
    });
  }

 private:
  UniqueFd fd_;
  std::uint64_t size_;
  std::string path_;
};

class FsStorage final : public Storage {
 public:
  explicit FsStorage(HostServices& host) : host_(host), log_(host.logger()) {}

  Status init() {
    const Config& c = host_.config();
    DFD_RETURN_IF_ERROR(c.allow_only({"root", "settle_ms", "follow_symlinks"}));
    if (!c.has("root")) return c.error("root", "required: the directory whose files are served");
    auto root = c.get_string("root");
    if (!root.ok()) return root.status();
    if (root->empty()) return c.error("root", "must not be empty");
    struct stat st {};
    if (::stat(root->c_str(), &st) != 0) {
      int e = errno;
      return c.error("root",
                     "'" + printable(*root) + "' must be an existing directory: " + errno_text(e));
    }
    if (!S_ISDIR(st.st_mode)) {
      return c.error("root", "'" + printable(*root) + "' is not a directory");
    }
    char* real = ::realpath(root->c_str(), nullptr);
    if (real == nullptr) {
      int e = errno;
      return c.error("root", "cannot resolve '" + printable(*root) + "': " + errno_text(e));
    }
    root_real_ = real;
    std::free(real);
    root_prefix_ = root_real_ == "/" ? "/" : root_real_ + "/";
    int fd = ::open(root_real_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      return c.error("root", "cannot open '" + printable(root_real_) + "': " + errno_text(e));
    }
    root_fd_.reset(fd);

    auto settle = c.int_or("settle_ms", 2000);
    if (!settle.ok()) return settle.status();
    if (*settle < 0) return c.error("settle_ms", "must be >= 0");
    settle_ns_ = *settle * 1000000LL;
    auto follow = c.bool_or("follow_symlinks", true);
    if (!follow.ok()) return follow.status();
    follow_symlinks_ = *follow;
    log_.info("serving '" + printable(root_real_) + "' (settle_ms=" + std::to_string(*settle) +
              ", follow_symlinks=" + (follow_symlinks_ ? "true" : "false") + ")");
    return Status::Ok();
  }

  Result<std::vector<FileEntry>> list() noexcept override {
    return guard("storage-fs: list", [&]() -> Result<std::vector<FileEntry>> {
      ListState state;
      DFD_RETURN_IF_ERROR(walk_dir(root_real_, "", 0, state));
      log_skipped(state.skipped);
      std::sort(state.out.begin(), state.out.end(),
                [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
      if (log_.enabled(LogLevel::kDebug)) {
        log_.debug("listed " + std::to_string(state.out.size()) + " files (" +
                   std::to_string(state.settling) + " still being written, " +
                   std::to_string(state.refused_links) + " links refused)");
      }
      return std::move(state.out);
    });
  }

  Result<FileEntry> stat(std::string_view path) noexcept override {
    return guard("storage-fs: stat", [&]() -> Result<FileEntry> {
      auto f = open_file(path);
      if (!f.ok()) return f.status();
      return FileEntry{std::string(path), static_cast<std::uint64_t>(f->st.st_size),
                       mtime_ns_of(f->st)};
    });
  }

  Result<std::unique_ptr<ReadHandle>> open(std::string_view path) noexcept override {
    return guard("storage-fs: open", [&]() -> Result<std::unique_ptr<ReadHandle>> {
      auto f = open_file(path);
      if (!f.ok()) return f.status();
      auto size = static_cast<std::uint64_t>(f->st.st_size);
      return std::unique_ptr<ReadHandle>(
          std::make_unique<FsReadHandle>(std::move(f->fd), size, std::string(path)));
    });
  }

  Health health() const noexcept override {
    try {
      struct stat st {};
      if (::stat(root_real_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        int e = errno;
        return {false, "root '" + root_real_ + "' is not accessible: " + errno_text(e)};
      }
      if (::access(root_real_.c_str(), R_OK | X_OK) != 0) {
        int e = errno;
        return {false, "root '" + root_real_ + "' is not readable: " + errno_text(e)};
      }
      return {true, "root '" + root_real_ + "' accessible"};
    } catch (...) {
      return {false, "health check failed"};
    }
  }

 private:
  struct OpenedFile {
    UniqueFd fd;
    struct stat st {};
  };
  struct ListState {
    std::vector<FileEntry> out;
    std::set<std::pair<dev_t, ino_t>> dirs_seen;  // breaks loops (bind mounts)
    std::size_t settling = 0;
    std::size_t refused_links = 0;
    std::map<std::string, std::string> skipped;  // path -> why it is not offered
  };

  // Issue 14: every entry a listing leaves out is logged at info level with its reason, once
  // while it stays left out for that reason (a rescan every minute must not repeat it), and
  // again when the reason changes or after it was offered in between.
  void log_skipped(const std::map<std::string, std::string>& now) {
    std::lock_guard<std::mutex> g(skipped_mu_);
    for (const auto& [path, why] : now) {
      auto it = skipped_logged_.find(path);
      if (it != skipped_logged_.end() && it->second == why) continue;
      log_.info("not offered: '" + printable(path) + "': " + why);
    }
    skipped_logged_ = now;
  }

  bool settled(const struct stat& st) const {
    if (settle_ns_ == 0) return true;
    auto now =
        std::chrono::duration_cast<std::chrono::nanoseconds>(host_.clock().now().time_since_epoch())
            .count();
    return now - mtime_ns_of(st) >= settle_ns_;
  }

  // The real path of `rel` relative to the root; kNotFound when it is absent, leaves the root or
  // lands on a private (dot) name.
  Result<std::string> resolve(const std::string& rel) const {
    std::string abs = root_prefix_ + rel;
    char* real = ::realpath(abs.c_str(), nullptr);
    if (real == nullptr) return errno_status("resolve", rel, errno);
    std::string r(real);
    std::free(real);
    if (r.compare(0, root_prefix_.size(), root_prefix_) != 0) {
      return Status::NotFound("storage-fs: '" + printable(rel) + "' leads outside the root");
    }
    r.erase(0, root_prefix_.size());
    if (!is_safe_relative_path(r)) {
      return Status::NotFound("storage-fs: '" + printable(rel) + "' leads to a private path");
    }
    return r;
  }

  // Opens `rel` (already resolved, no links expected) from the root descriptor, one component at a
  // time with O_NOFOLLOW; only a regular file is opened.
  Result<OpenedFile> open_beneath(const std::string& rel, std::string_view shown) const {
    int dir = root_fd_.get();
    UniqueFd cur;
    std::size_t start = 0;
    for (;;) {
      std::size_t end = rel.find('/', start);
      std::string seg =
          rel.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (end == std::string::npos) {
        struct stat st {};
        if (::fstatat(dir, seg.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          return errno_status("stat", shown, errno);
        }
        if (!S_ISREG(st.st_mode)) {
          return Status::NotFound("storage-fs: '" + printable(shown) + "' is not a regular file");
        }
        // O_NONBLOCK: should the entry be swapped for a FIFO, open must not hang.
        int fd =
            ::openat(dir, seg.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) return errno_status("open", shown, errno);
        OpenedFile f;
        f.fd.reset(fd);
        if (::fstat(fd, &f.st) != 0) return errno_status("stat", shown, errno);
        if (!S_ISREG(f.st.st_mode)) {
          return Status::NotFound("storage-fs: '" + printable(shown) + "' is not a regular file");
        }
        return f;
      }
      int next = ::openat(dir, seg.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) return errno_status("open", shown, errno);
      cur.reset(next);
      dir = cur.get();
      start = end + 1;
    }
  }

  Result<OpenedFile> open_file(std::string_view path) const {
    if (!is_safe_relative_path(path)) {
      return Status::InvalidArgument("storage-fs: unsafe path '" + printable(path) + "'");
    }
    std::string rel(path);
    if (follow_symlinks_) {
      auto r = resolve(rel);
      if (!r.ok()) return r.status();
      rel = std::move(*r);
    }
    auto f = open_beneath(rel, path);
    if (!f.ok()) return f.status();
    if (!settled(f->st)) {
      return Status::NotFound("storage-fs: '" + printable(path) +
                              "' is still being written (modified within settle_ms)");
    }
    return f;
  }

  Status walk_dir(const std::string& abs, const std::string& rel, int depth, ListState& state) {
    DIR* d = ::opendir(abs.c_str());
    if (d == nullptr) {
      Status st = errno_status("list", rel.empty() ? std::string(".") : rel, errno);
      if (depth == 0) return st;  // the root itself: the listing failed
      log_.warn(st.message());
      return Status::Ok();
    }
    std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
    struct stat dst {};
    if (::fstat(::dirfd(d), &dst) != 0) return Status::Ok();
    if (!state.dirs_seen.insert({dst.st_dev, dst.st_ino}).second) return Status::Ok();

    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string child_rel = rel.empty() ? name : rel + "/" + name;
      std::string child_abs = abs + "/" + name;
      auto skip = [&](std::string why) { state.skipped[child_rel] = std::move(why); };
      if (name.empty() || name[0] == '.') {  // dotfiles, dot-dirs
        skip("names starting with '.' are private and never served");
        continue;
      }
      if (!is_safe_relative_path(child_rel)) {
        skip("not a safe path (control characters, invalid UTF-8 or too long)");
        continue;
      }
      struct stat st {};
      if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        skip("cannot stat: " + errno_text(errno));
        continue;
      }
      if (S_ISLNK(st.st_mode)) {
        if (!follow_symlinks_) {
          ++state.refused_links;
          skip("a symbolic link, and follow_symlinks = false");
          continue;
        }
        if (!resolve(child_rel).ok()) {
          ++state.refused_links;
          skip("a symbolic link that is dangling or leads out of the root or to a private path");
          continue;
        }
        if (::stat(child_abs.c_str(), &st) != 0) {
          skip("cannot stat the link's target: " + errno_text(errno));
          continue;
        }
        // A linked directory is not descended: its target lies inside the root and is listed
        // under its own path already (open() still resolves paths through it).
        if (S_ISDIR(st.st_mode)) continue;
      }
      if (S_ISDIR(st.st_mode)) {
        if (depth + 1 < kMaxDepth) {
          DFD_RETURN_IF_ERROR(walk_dir(child_abs, child_rel, depth + 1, state));
        } else {
          skip("a directory " + std::to_string(kMaxDepth) + " levels deep (the limit)");
        }
        continue;
      }
      if (!S_ISREG(st.st_mode)) {
        skip("not a regular file (a FIFO, socket or device)");
        continue;
      }
      if (!settled(st)) {
        ++state.settling;
        skip("modified less than settle_ms = " + std::to_string(settle_ns_ / 1000000) +
             " ago: still being written; the next rescan offers it");
        continue;
      }
      state.out.push_back({child_rel, static_cast<std::uint64_t>(st.st_size), mtime_ns_of(st)});
    }
    return Status::Ok();
  }

  HostServices& host_;
  Logger& log_;
  std::string root_real_;    // realpath of the configured root
  std::string root_prefix_;  // root_real_ + "/"
  UniqueFd root_fd_;
  std::int64_t settle_ns_ = 0;
  bool follow_symlinks_ = true;
  std::mutex skipped_mu_;                              // list() may run concurrently
  std::map<std::string, std::string> skipped_logged_;  // what the last listing left out
};

}  // namespace
}  // namespace dfd::storage_fs

DFD_PLUGIN(dfd::PluginKind::kStorage, "storage-fs", "1.0.0",
           "Serves the regular files under a directory (no dotfiles, no links out of the root)",
           nullptr, 0, &dfd::create_plugin<dfd::storage_fs::FsStorage>,
           &dfd::destroy_plugin<dfd::storage_fs::FsStorage>)
