// dfd SDK — storage plugins: where the bytes of served files live.
//
// A storage backend is small on purpose: list, stat, open-for-read. It knows nothing about
// HTTP, tokens, ranges or digests (the host computes and caches manifests over any storage).
// Paths are relative to the storage's root, '/'-separated, never absolute, never containing
// "." or ".." segments; a backend must refuse anything else with kInvalidArgument and must never
// give access outside its root (symlinks leaving the root are treated as absent).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/plugin.hpp"

namespace dfd {

struct FileEntry {
  std::string path;           // "videos/movie.mp4"
  std::uint64_t size = 0;     // bytes (64-bit: files over 4 GiB work)
  std::int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch (change detection)
};

// An open file. Thread-safe for concurrent read_at() calls. Must not outlive its Storage.
class ReadHandle {
 public:
  virtual ~ReadHandle() = default;
  virtual std::uint64_t size() const noexcept = 0;
  // A descriptor the host may sendfile()/pread() from, or -1 when the backend has none. The
  // handle keeps ownership; the descriptor is valid while the handle lives.
  virtual int fd() const noexcept { return -1; }
  // Reads up to `len` bytes at `offset` into `buf`; returns the count (0 only at end of file).
  virtual Result<std::size_t> read_at(std::uint64_t offset, void* buf,
                                      std::size_t len) noexcept = 0;
};

class Storage : public Plugin {
 public:
  static constexpr PluginKind kKind = PluginKind::kStorage;

  // Every servable file (no dotfiles, no files still being written, nothing outside the root).
  // May take a while for large trees; called from a background thread.
  virtual Result<std::vector<FileEntry>> list() noexcept = 0;
  // One file's entry; kNotFound if it is absent or not servable.
  virtual Result<FileEntry> stat(std::string_view path) noexcept = 0;
  // Opens for reading; kNotFound / kInvalidArgument / kIoError as appropriate.
  virtual Result<std::unique_ptr<ReadHandle>> open(std::string_view path) noexcept = 0;
};

// Shared validation for backends: true when `path` is relative, non-empty, has no empty, "." or
// ".." segment, no backslash and no NUL, and no segment starting with '.' (dotfiles are private).
inline bool is_safe_relative_path(std::string_view path) noexcept {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty() || seg.front() == '.') return false;
    for (char c : seg) {
      if (c == '\0' || c == '\\') return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace dfd
