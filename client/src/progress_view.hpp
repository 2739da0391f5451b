// What `dfd get` shows on stderr while it downloads (issue 13): one progress line that never wraps,
// an optional live per-server block under it (-v), a `resuming:` line at the start, a final line
// that is true, and nothing at all with -q.
//
// The line, richest first (fields are shortened, then dropped, in this order until it fits in
// width-1 columns; the percentage always stays):
//    42.0%  10.1 MiB / 24.0 MiB  7.5 MiB/s  ETA 2s  elapsed 1s  2/3 servers transferring (1
//    dropped)
//   1. the servers field becomes "2/3 transferring", then "2/3 srv"
//   2. the sizes become "10.1/24.0 MiB"        5. the sizes go
//   3. the servers field goes                  6. the speed goes
//   4. the elapsed time goes                   7. the ETA goes
// The final line (Progress::final):
//   100.0%  24.0 MiB in 3.2s  avg 7.5 MiB/s  from 3 servers        (every chunk verified)
//   stopped at 41.0%  10.1 MiB / 24.0 MiB  after 3.2s  ...         (failed, interrupted)
// followed by one line per server that ended dropped or backing off, with its reason.
//
// -v adds one line per server, redrawn in place with ANSI cursor-up (a tty only):
//     fs-a  zone-a    4.0 MiB   3.1 MiB/s  4 conn  transferring
//     fs-b  zone-b    2.0 MiB           -  0 conn  dropped: connection refused
// (no speed for a server that is not receiving now; the zone column goes on narrow terminals)
// Not a tty: no progress line and no block; only the `resuming:` line and one line per server
// that is dropped ("dfd: server fs-b dropped: connection refused"), so logs show what happened.
//
// Every text that came from the network (server ids, zones, reasons) goes through printable().
// Widths are counted in code points (a wide CJK character counts as one column: such ids are
// rare, and a line that is one column too wide only wraps, it does not break anything).
//
// Thread-safety: none; one ProgressView per download, used on the downloader's callback thread.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "downloader.hpp"

namespace dfd::client {

// The pure formatting functions (unit-tested). `width` is the terminal's width in columns; every
// returned line is at most width-1 columns wide (the last column would make some terminals wrap).
std::string progress_line(const Progress& p, std::size_t width);
// `ok`: the download succeeded (every chunk verified and the whole file's digest checked).
std::string final_line(const Progress& p, bool ok, std::size_t width);
// "resuming: 3 of 24 chunks already verified", or "" when nothing was resumed.
std::string resuming_line(const Progress& p);
// "transferring", "dropped: connection refused", "backing off: HTTP 503" (printable).
std::string server_state_text(const ServerProgress& s);
// The -v block: one line per server, at most `max_lines` lines (the last one then says how many
// servers are not shown).
std::vector<std::string> server_lines(const Progress& p, std::size_t width, std::size_t max_lines);
// After the final line: the servers that ended dropped or backing off, with their reasons.
std::vector<std::string> final_server_lines(const Progress& p, std::size_t width);
// The non-tty events between two progress calls: servers newly dropped (`before` may be null).
std::vector<std::string> server_events(const Progress* before, const Progress& now);

// Columns of `s` (UTF-8 code points), and `s` cut to at most `width` columns (whole code points).
std::size_t display_width(std::string_view s);
std::string cut_to_width(std::string_view s, std::size_t width);

// The size of the terminal on `fd`: TIOCGWINSZ, else $COLUMNS / $LINES, else 80 x 24.
std::size_t terminal_width(int fd);
std::size_t terminal_rows(int fd);

class ProgressView {
 public:
  enum class Mode {
    kOff,     // -q or --no-progress: nothing
    kEvents,  // stderr is not a terminal: the resuming line and dropped servers, one line each
    kLive,    // a terminal: the redrawn line (and the -v block)
  };
  // `fd` is the terminal's descriptor (its size is read on every redraw: resizing works).
  ProgressView(Mode mode, bool verbose, std::FILE* out, int fd);
  ~ProgressView();
  ProgressView(const ProgressView&) = delete;
  ProgressView& operator=(const ProgressView&) = delete;

  // Chooses the mode for stderr: kOff when `quiet` or `no_progress`, kLive on a tty, else kEvents.
  static Mode mode_for(bool quiet, bool no_progress, int fd);

  // Every Progress of the run; the one with `final` set is kept for finish().
  void show(const Progress& p);
  // After the run: the final line (and the server lines) from the last Progress, then a newline.
  void finish(bool ok);
  // Leaves the cursor on a fresh line without a final line (an exception; also the destructor).
  void end();
  // The last Progress shown (in every mode), or null before the first.
  const Progress* last() const { return have_last_ ? &last_ : nullptr; }

 private:
  void draw(const std::vector<std::string>& lines);
  Mode mode_;
  bool verbose_;
  std::FILE* out_;
  int fd_;
  bool started_ = false;      // the first Progress was seen (the resuming line is printed)
  std::size_t lines_up_ = 0;  // lines of the block drawn above the cursor's line
  bool drawn_ = false;        // a block is on screen, the cursor at the end of its last line
  bool have_last_ = false;    // last_ holds the previous Progress
  Progress last_;
};

}  // namespace dfd::client
