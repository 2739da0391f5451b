// dfd SDK — storage plugins: where the bytes of served files live.
//
// A storage backend is small on purpose: list, stat, open-for-read. It knows nothing about
// HTTP, tokens, ranges or digests (the host computes and caches manifests over any storage).
// Paths are relative to the storage's root, '/'-separated, never absolute, never containing
// "." or ".." segments; a backend must refuse anything else with kInvalidArgument and must never
// give access outside its root (symlinks leaving the root are treated as absent).
//
// Threads (what the host does, so what a backend must bear). Every method of Storage and of
// ReadHandle may be called concurrently with every other, from several threads at once, between
// start() and stop():
//   - open() is called from every data-plane event-loop thread ([content] threads, default 2) at
//     the same time, for the same or different paths: each loop keeps its own open handles, so one
//     file may be open several times at once. read_at() is called on a handle from the loop that
//     opened it, and size()/fd() once right after open().
//   - list(), stat() and known_digests() come from the content index: at the file server's start
//     (main thread), then on its background thread (periodic rescans, SIGHUP), one rescan at a
//     time, concurrently with the loops' open()/read_at(). The index also open()s and read_at()s
//     files it hashes, on that same thread.
//   - health() from any thread at any time (plugin.hpp).
//   - A handle may be destroyed on a thread other than the one that opened it; the host destroys
//     every handle it holds before any plugin's stop().
// A call blocks the thread it runs on: an open() or read_at() that waits holds up the other
// connections of that event loop for as long as it runs (the loop moves on to them between two
// read_at() calls). Keep each call short and bounded (a network backend times out rather than
// waiting for ever, and answers kUnavailable/kIoError).
// dfd/testing/fault_storage.hpp wraps any Storage to check how a host or a test copes with slow,
// short and failing calls and to see the threads calls come from.
//
// Lifetime (what must not outlive the library; host/src/plugin_loader.cpp's order). At shutdown
// the host stops the file server (event loops and the index's thread joined, every ReadHandle
// destroyed), then calls every plugin's stop() in reverse start order, drops the HTTP route
// handlers, destroy()s every instance in reverse config order, destroys each plugin's
// HostServices and only then unloads the libraries (dlclose). Therefore a plugin:
//   - after stop() returns, runs nothing: every thread it started is joined (never detached), no
//     timer, callback or pending work of its code is left with the host, another plugin or a
//     library (a broker handler, an HTTP route, an OpenSSL/curl callback, an atexit() handler);
//   - after destroy() returns, leaves nothing of its code referenced by the host: no ReadHandle
//     or other object whose virtual functions or destructor live in the plugin, no std::function
//     or callback made in the plugin, no exception object or std::exception_ptr thrown by it (every
//     boundary function is noexcept and answers a Status), no std::shared_ptr created in the
//     plugin (its control block's code is the plugin's), no thread_local with a non-trivial
//     destructor on a host thread;
//   - frees in destroy() every piece of memory it allocated and still holds, and keeps no static
//     with a non-trivial destructor that refers to the host or to other plugins (such destructors
//     run at dlclose, after HostServices and the other plugins are gone); a library may be loaded
//     and unloaded several times in one process (test suites and checkers do);
//   - uses HostServices (logger, config, metrics) and plugins found with find_plugin() no later
//     than its own destroy(); plugins it requires are still running during its stop(), but may
//     already be destroyed while its destroy() runs (instances are destroyed in reverse config
//     order, not in dependency order).
// Values returned by value (std::string, std::vector, FileEntry, KnownDigests, Status) are plain
// data and may be kept: the matching build signature guarantees both sides share the C++ library
// that owns their memory.
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

// An open file. Thread-safe for concurrent read_at() calls (see "Threads" above). Must not outlive
// its Storage; the host destroys its handles before the storage's stop().
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
  // May take a while for large trees; called from the index's thread (see "Threads" above),
  // concurrently with open()/read_at() on the event loops.
  virtual Result<std::vector<FileEntry>> list() noexcept = 0;
  // One file's entry; kNotFound if it is absent or not servable.
  virtual Result<FileEntry> stat(std::string_view path) noexcept = 0;
  // Opens for reading; kNotFound / kInvalidArgument / kIoError as appropriate. Called from every
  // event-loop thread at once (see "Threads" above): kNotFound answers the client 404, any other
  // error 500 (the Status goes to the host's log, not to the client).
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
