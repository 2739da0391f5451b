// storage-example: the smallest complete storage plugin, one file (see
// docs/plugins.md). It serves, read-only, exactly the files named in a manifest:
//
//   [[plugin]]
//   name = "storage-example"
//   manifest = "/srv/files/MANIFEST"   # one relative path per line; '#' starts a comment
//
// Paths are relative to the manifest's directory. A line that is not a safe relative path (see
// dfd::is_safe_relative_path: no "..", no leading '/', no dot names) is ignored with a warning.
// Files are read with pread() and no descriptor is offered (fd() == -1), so the host uses the
// read_at() path: this plugin shows that a backend need not be a local file system.
//
// Thread-safety: everything is fixed after init(); list/stat/open and read_at run concurrently.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "dfd/dfd.hpp"

namespace dfd::storage_example {
namespace {

class ExampleHandle final : public ReadHandle {
 public:
  ExampleHandle(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ~ExampleHandle() override { ::close(fd_); }
  std::uint64_t size() const noexcept override { return size_; }
  Result<std::size_t> read_at(std::uint64_t offset, void* buf, std::size_t len) noexcept override {
    if (offset >= size_) return std::size_t{0};
    if (len > size_ - offset) len = static_cast<std::size_t>(size_ - offset);
    ssize_t n;
    do {
      n = ::pread(fd_, buf, len, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0)
      return Status::IoError(std::string("storage-example: read: ") + std::strerror(errno));
    return static_cast<std::size_t>(n);
  }

 private:
  int fd_;
  std::uint64_t size_;
};

class ExampleStorage final : public Storage {
 public:
  explicit ExampleStorage(HostServices& host) : host_(host) {}

  // Called by dfd::create_plugin: validate the config, read the manifest.
  Status init() {
    const Config& c = host_.config();
    DFD_RETURN_IF_ERROR(c.allow_only({"manifest"}));
    if (!c.has("manifest")) return c.error("manifest", "required: the file listing what is served");
    auto manifest = c.get_string("manifest");
    if (!manifest.ok()) return manifest.status();  // wrong type: the message names file and line
    std::ifstream in(*manifest);
    if (!in) return c.error("manifest", "cannot read '" + *manifest + "'");
    std::size_t slash = manifest->rfind('/');
    std::string parent = slash == std::string::npos ? "." : manifest->substr(0, slash + 1);
    char* dir = ::realpath(parent.c_str(), nullptr);
    if (dir == nullptr) return c.error("manifest", "cannot resolve the manifest's directory");
    base_ = std::string(dir) + "/";
    std::free(dir);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.empty() || line[0] == '#') continue;
      if (!is_safe_relative_path(line)) {
        host_.logger().warn("manifest line " + std::to_string(n) + " ignored: not a safe path");
        continue;
      }
      paths_.insert(line);
    }
    return Status::Ok();
  }

  Result<std::vector<FileEntry>> list() noexcept override {
    return guard("storage-example: list", [&]() -> Result<std::vector<FileEntry>> {
      std::vector<FileEntry> out;
      for (const std::string& p : paths_) {
        auto e = stat(p);
        if (e.ok()) out.push_back(std::move(*e));  // missing files are simply not listed
      }
      return out;
    });
  }

  Result<FileEntry> stat(std::string_view path) noexcept override {
    return guard("storage-example: stat", [&]() -> Result<FileEntry> {
      auto h = open_checked(path);
      if (!h.ok()) return h.status();
      FileEntry e{std::string(path), static_cast<std::uint64_t>(h->st.st_size),
                  h->st.st_mtim.tv_sec * 1000000000LL + h->st.st_mtim.tv_nsec};
      ::close(h->fd);
      return e;
    });
  }

  Result<std::unique_ptr<ReadHandle>> open(std::string_view path) noexcept override {
    return guard("storage-example: open", [&]() -> Result<std::unique_ptr<ReadHandle>> {
      auto h = open_checked(path);
      if (!h.ok()) return h.status();
      return std::unique_ptr<ReadHandle>(
          std::make_unique<ExampleHandle>(h->fd, static_cast<std::uint64_t>(h->st.st_size)));
    });
  }

 private:
  struct Opened {
    int fd;
    struct stat st;
  };

  // Validates, checks the manifest, resolves links and refuses anything outside the directory.
  // (A writer who can swap links inside the directory between realpath() and open() could race
  // this; storage-fs closes that gap by opening component by component with O_NOFOLLOW.)
  Result<Opened> open_checked(std::string_view path) const {
    if (!is_safe_relative_path(path)) return Status::InvalidArgument("unsafe path");
    std::string rel(path);
    if (!paths_.count(rel)) return Status::NotFound("'" + rel + "' is not in the manifest");
    char* real = ::realpath((base_ + rel).c_str(), nullptr);
    if (real == nullptr) return Status::NotFound("'" + rel + "': " + std::strerror(errno));
    std::string r(real);
    std::free(real);
    if (r.compare(0, base_.size(), base_) != 0)
      return Status::NotFound("'" + rel + "' leaves the root");
    int fd = ::open(r.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return Status::NotFound("'" + rel + "': " + std::strerror(errno));
    Opened o{fd, {}};
    if (::fstat(fd, &o.st) != 0 || !S_ISREG(o.st.st_mode)) {
      ::close(fd);
      return Status::NotFound("'" + rel + "' is not a regular file");
    }
    return o;
  }

  HostServices& host_;
  std::string base_;             // realpath of the manifest's directory, with a trailing '/'
  std::set<std::string> paths_;  // what the manifest allows
};

}  // namespace
}  // namespace dfd::storage_example

DFD_PLUGIN(dfd::PluginKind::kStorage, "storage-example", "1.0.0",
           "Example: serves the files named in a manifest (read_at only)", nullptr, 0,
           &dfd::create_plugin<dfd::storage_example::ExampleStorage>,
           &dfd::destroy_plugin<dfd::storage_example::ExampleStorage>)
