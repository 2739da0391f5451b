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

// A file's digests as the backend knows them (Storage::known_digests, ABI minor 4).
struct KnownDigests {
  std::string alg;                  // "sha256", as a digest plugin names it
  std::string digest;               // whole-file digest, lower-case hex (the file's uid)
  std::uint64_t chunk_size = 0;     // bytes per chunk (the last may be shorter)
  std::vector<std::string> chunks;  // lower-case hex, dfd::chunk_count(size, chunk_size) entries
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

  // ---- ABI minor 4 (appended; see dfd/abi.hpp) ----
  // A plugin built against minor 3 or older lacks this slot: the host calls it only on a plugin
  // whose descriptor's abi_minor is >= 4.
  //
  // The digests of `path` when the backend already knows them without reading the file (a
  // pull-through cache whose origin publishes them, an object store keeping them as metadata):
  // the host then indexes the file without reading a byte, and checks every chunk it serves
  // against `chunks` as usual. kNotSupported (the default) when the backend does not know them:
  // the host reads and hashes the file. The answer must describe the bytes open() gives for the
  // same `entry` (same size and mtime_ns as list()/stat() report).
  virtual Result<KnownDigests> known_digests(std::string_view path) noexcept {
    (void)path;
    return Status::NotSupported("this storage does not know its files' digests");
  }
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
