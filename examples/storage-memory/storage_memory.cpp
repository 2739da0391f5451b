// storage-memory: a storage plugin built outside the dfd tree (docs/plugins.md). At start() it
// reads every regular file under `root` into memory and then serves list/stat/open from there:
//
//   [[plugin]]
//   name = "storage-memory"
//   root = "/srv/files"
//   max_bytes = 268435456   # optional: refuse to start when the files hold more (default 256 MiB)
//
// Dot names are private (never read), and a symbolic link is read only when its target stays
// inside the root. Handles offer no descriptor (fd() == -1): the host serves with read_at().
//
// Thread-safety: files_ is filled once, in start() on the main thread, before the host calls
// list/stat/open (the content index from its thread, the data plane from every loop thread); after
// that it is only read, so no lock is needed. A handle shares its file's bytes (shared_ptr), so
// read_at() from many threads is a memcpy from memory nobody writes.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "dfd/dfd.hpp"

namespace dfd::storage_memory {
namespace {

namespace fs = std::filesystem;
using Bytes = std::shared_ptr<const std::string>;

class MemoryHandle final : public ReadHandle {
 public:
  explicit MemoryHandle(Bytes bytes) : bytes_(std::move(bytes)) {}
  std::uint64_t size() const noexcept override { return bytes_->size(); }
  Result<std::size_t> read_at(std::uint64_t offset, void* buf, std::size_t len) noexcept override {
    if (offset >= bytes_->size()) return std::size_t{0};
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, bytes_->size() - offset));
    std::memcpy(buf, bytes_->data() + offset, n);
    return n;
  }

 private:
  Bytes bytes_;
};

class MemoryStorage final : public Storage {
 public:
  explicit MemoryStorage(HostServices& host) : host_(host) {}

  // Called by dfd::create_plugin (and by `dfd-host --check`): validate the config, read nothing.
  Status init() {
    const Config& c = host_.config();
    DFD_RETURN_IF_ERROR(c.allow_only({"root", "max_bytes"}));
    if (!c.has("root")) return c.error("root", "required: the directory whose files are served");
    auto root = c.get_string("root");
    if (!root.ok()) return root.status();  // wrong type: the message names file, line and key
    auto max = c.int_or("max_bytes", std::int64_t{256} << 20);
    if (!max.ok()) return max.status();
    if (*max < 0) return c.error("max_bytes", "must be >= 0");
    std::error_code ec;
    root_ = fs::canonical(*root, ec);
    if (ec || !fs::is_directory(root_, ec))
      return c.error("root", "'" + *root + "' is not a directory");
    max_bytes_ = static_cast<std::uint64_t>(*max);
    return Status::Ok();
  }

  Status start() noexcept override {
    return guard("storage-memory: start", [&]() -> Status {
      std::uint64_t total = 0;
      std::error_code ec;
      for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end;
           it.increment(ec)) {
        std::string rel = it->path().lexically_relative(root_).generic_string();
        if (!is_safe_relative_path(rel)) {  // a dot name: private, and nothing below it is read
          it.disable_recursion_pending();
          continue;
        }
        // Links too: what counts is the target, a regular file inside the root, not a dot name.
        std::error_code link_ec;
        fs::path real = fs::canonical(it->path(), link_ec);
        if (link_ec || !is_safe_relative_path(real.lexically_relative(root_).generic_string()) ||
            !fs::is_regular_file(real, link_ec))
          continue;
        struct stat st {};
        if (::stat(real.c_str(), &st) != 0) continue;  // gone since the directory was read
        std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
        if (size > max_bytes_ - total)
          return host_.config().error("max_bytes", "the files under '" + root_.string() +
                                                       "' hold more than " +
                                                       std::to_string(max_bytes_) + " bytes");
        std::string bytes(size, '\0');
        std::ifstream in(real, std::ios::binary);
        in.read(bytes.data(), static_cast<std::streamsize>(size));
        bytes.resize(static_cast<std::size_t>(in.gcount()));  // it may have shrunk meanwhile
        total += bytes.size();
        files_[rel] = {std::make_shared<const std::string>(std::move(bytes)),
                       st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
      }
      if (ec)
        return Status::IoError("storage-memory: reading '" + root_.string() + "': " + ec.message());
      host_.logger().info("holds " + std::to_string(files_.size()) + " files, " +
                          std::to_string(total) + " bytes");
      return Status::Ok();
    });
  }

  Result<std::vector<FileEntry>> list() noexcept override {
    return guard("storage-memory: list", [&]() -> Result<std::vector<FileEntry>> {
      std::vector<FileEntry> out;
      for (const auto& [path, file] : files_)
        out.push_back({path, file.bytes->size(), file.mtime_ns});
      return out;
    });
  }

  Result<FileEntry> stat(std::string_view path) noexcept override {
    return guard("storage-memory: stat", [&]() -> Result<FileEntry> {
      auto f = find(path);
      if (!f.ok()) return f.status();
      return FileEntry{std::string(path), (*f)->bytes->size(), (*f)->mtime_ns};
    });
  }

  Result<std::unique_ptr<ReadHandle>> open(std::string_view path) noexcept override {
    return guard("storage-memory: open", [&]() -> Result<std::unique_ptr<ReadHandle>> {
      auto f = find(path);
      if (!f.ok()) return f.status();
      return std::unique_ptr<ReadHandle>(std::make_unique<MemoryHandle>((*f)->bytes));
    });
  }

 private:
  struct File {
    Bytes bytes;
    std::int64_t mtime_ns = 0;
  };

  // Validate first (kInvalidArgument), then look up (kNotFound: absent, a directory, private).
  Result<const File*> find(std::string_view path) const {
    if (!is_safe_relative_path(path)) return Status::InvalidArgument("unsafe path");
    auto it = files_.find(std::string(path));
    if (it == files_.end()) return Status::NotFound("'" + std::string(path) + "' is not served");
    return &it->second;
  }

  HostServices& host_;
  fs::path root_;  // canonical: no links, no trailing '/'
  std::uint64_t max_bytes_ = 0;
  std::map<std::string, File> files_;  // filled by start(), read-only afterwards
};

}  // namespace
}  // namespace dfd::storage_memory

DFD_PLUGIN(dfd::PluginKind::kStorage, "storage-memory", "1.0.0",
           "Example: every file under a directory, held in memory (read_at only)", nullptr, 0,
           &dfd::create_plugin<dfd::storage_memory::MemoryStorage>,
           &dfd::destroy_plugin<dfd::storage_memory::MemoryStorage>)
