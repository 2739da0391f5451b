// `dfd get ID -o -` (issue 13): the verified bytes of the file, in order, on stdout, with bounded
// memory and bounded disk.
//
// The download goes to a private temporary part file (a folder made by mkdtemp under $TMPDIR, else
// /tmp, mode 0700; removed with everything in it when the StdoutStream is destroyed, also after a
// failure or an interrupt). The engine is told (configure()):
//   - preallocate = false: the part is sparse, only what arrived takes space;
//   - window_bytes = window_for(chunk_size): only chunks within that distance of what was streamed
//     are fetched;
//   - on_prefix(n): bytes [0, n) are verified and hashed; StdoutStream writes [written, n) to
//     stdout (1 MiB at a time, blocking: a slow reader slows the download down) and punches that
//     range out of the part (fallocate PUNCH_HOLE), so the part holds at most about the window.
// When stdout's reader goes away (EPIPE, e.g. `| head -c 100`), or any write error, the stream
// remembers the error and calls `stop` (the caller makes the download stop like an interrupt);
// the command then ends with error() and exit code kLocalIo.
//
// Thread-safety: all calls on one thread (the engine calls on_prefix on its run() thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "downloader.hpp"

namespace dfd::client {

// Refuses what -o - cannot do (CliError kUsage, plain message): --json (stdout carries the file's
// bytes; the report is text on stderr), -d DIR, other than exactly one file named on the command
// line (`files`), stdout on a terminal.
void check_stdout_streaming(bool json, const std::string& output_dir, std::size_t files,
                            bool stdout_is_terminal);

class StdoutStream {
 public:
  // Creates the private folder; throws CliError(kLocalIo) when it cannot. `out_fd` is stdout's
  // (a test may give another descriptor).
  explicit StdoutStream(int out_fd = 1);
  ~StdoutStream();
  StdoutStream(const StdoutStream&) = delete;
  StdoutStream& operator=(const StdoutStream&) = delete;

  // The streaming window for a file of chunks of `chunk_size`: max(64 MiB, 16 chunks).
  static std::uint64_t window_for(std::uint64_t chunk_size);

  // Sets o.output (a file in the private folder), o.preallocate, o.window_bytes (`window`, or
  // window_for(chunk_size) when 0), o.on_prefix. `stop` is called once on a write error.
  void configure(DownloadOptions& o, std::uint64_t chunk_size, std::uint64_t window,
                 std::function<void()> stop);

  // Writes bytes [written(), n) of the part file to the output and punches them out of the part.
  void on_prefix(std::uint64_t n);

  // After the download: the report names "-" as its path; a write error replaces its outcome
  // (exit kLocalIo, error()).
  void finish(DownloadReport& r) const;
  // "streamed 24.0 MiB to stdout; temporary space used at most 2.0 MiB"
  std::string summary() const;

  std::uint64_t written() const { return written_; }
  // The most disk the part file held at once (st_blocks * 512, measured before each punch: the
  // part only grows between punches).
  std::uint64_t peak_disk() const { return peak_disk_; }
  // "" while everything went fine; else the plain message ("stdout was closed by its reader
  // after N bytes; the download stopped").
  const std::string& error() const { return error_; }
  const std::string& folder() const { return folder_; }

 private:
  void fail(const std::string& message);
  bool write_out(const char* p, std::size_t n);

  int out_fd_;
  int part_fd_ = -1;
  std::string folder_;
  std::string output_;  // the engine's output path (its part is output_ + ".dfd-part")
  std::uint64_t written_ = 0;
  std::uint64_t peak_disk_ = 0;
  bool punch_ok_ = true;
  std::string error_;
  std::function<void()> stop_;
};

}  // namespace dfd::client
