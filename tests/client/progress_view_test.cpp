// Unit tests of what `dfd get` shows while it downloads (client/src/progress_view.*): the line at
// several terminal widths, the final line, the -v server block, the non-tty events, and the
// redraw of a ProgressView into a file. Synthetic Progress values only; the real terminal is
// tests/client/progress_tmux_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "progress_view.hpp"
#include "util.hpp"

using namespace dfd::client;

namespace {

constexpr std::uint64_t kMiB = 1 << 20;

ServerProgress server(std::string id, std::string state, std::uint64_t bytes, double speed,
                      std::size_t conns, std::string reason = "") {
  ServerProgress s;
  s.id = std::move(id);
  s.zone = "zone-" + s.id.substr(s.id.size() - 1);
  s.url = "http://127.0.0.1:1/";
  s.bytes = bytes;
  s.speed = speed;
  s.connections = conns;
  s.state = std::move(state);
  s.reason = std::move(reason);
  return s;
}

// A download under way: `done` of `total` bytes at `speed`, `transferring` of `usable` servers.
Progress running(std::uint64_t total, std::uint64_t done, double speed, double eta, double elapsed,
                 std::size_t transferring, std::size_t usable) {
  Progress p;
  p.total_bytes = total;
  p.done_bytes = done;
  p.speed = speed;
  p.eta_s = eta;
  p.elapsed_s = elapsed;
  p.servers_active = transferring;
  p.servers_usable = usable;
  p.servers_transferring = transferring;
  return p;
}

// Half of 1 GiB after 65 s, 2 of 3 servers sending, one dropped: the widest realistic line.
Progress middle() {
  Progress p = running(1024 * kMiB, 512 * kMiB, 112.3 * kMiB, 65, 65, 2, 2);
  p.chunks_total = 256;
  p.chunks_verified = 120;
  p.servers = {server("fs-a", "transferring", 300 * kMiB, 60 * kMiB, 4),
               server("fs-b", "dropped", 100 * kMiB, 0, 0, "connection refused"),
               server("fs-c", "transferring", 112 * kMiB, 52.3 * kMiB, 4)};
  return p;
}

// The same download at its end: every chunk verified in 9.5 s.
Progress done() {
  Progress p = middle();
  p.done_bytes = p.total_bytes;
  p.eta_s = 0;
  p.speed = 0;
  p.elapsed_s = 9.5;
  p.servers_active = 0;
  p.servers_transferring = 0;
  p.chunks_verified = p.chunks_total;
  p.final = true;
  p.servers[0].bytes = 700 * kMiB;
  p.servers[2].bytes = 224 * kMiB;
  for (auto& s : p.servers)
    if (s.state != "dropped") s.state = "idle";
  return p;
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) s.append(buf, n);
  return s;
}

}  // namespace

TEST(ProgressLine, FitsEveryWidthAndDropsFieldsInOrder) {
  const Progress p = middle();
  for (std::size_t w : {40, 60, 80, 120}) {
    std::string line = progress_line(p, w);
    SCOPED_TRACE("width " + std::to_string(w) + ": '" + line + "'");
    EXPECT_LT(display_width(line), w);  // never the last column: no wrap
    EXPECT_EQ(line.rfind(" 50.0%", 0), 0u);
    EXPECT_TRUE(has(line, "ETA 1m05s"));
    EXPECT_TRUE(has(line, "112.3 MiB/s"));
  }
  std::string wide = progress_line(p, 120);
  EXPECT_EQ(wide,
            " 50.0%  512.0 MiB / 1.0 GiB  112.3 MiB/s  ETA 1m05s  elapsed 1m05s  2/3 servers "
            "transferring (1 dropped)");
  std::string eighty = progress_line(p, 80);
  EXPECT_TRUE(has(eighty, "elapsed 1m05s"));
  EXPECT_TRUE(has(eighty, "2/3 srv"));
  EXPECT_TRUE(has(eighty, "512.0 MiB / 1.0 GiB"));
  std::string sixty = progress_line(p, 60);
  EXPECT_TRUE(has(sixty, "512.0 MiB/1.0 GiB"));
  EXPECT_FALSE(has(sixty, "srv"));
  std::string forty = progress_line(p, 40);
  EXPECT_EQ(forty, " 50.0%  112.3 MiB/s  ETA 1m05s");
  // Absurdly narrow: cut, never wider.
  EXPECT_EQ(progress_line(p, 4), " 50");
  EXPECT_LE(display_width(progress_line(p, 0)), 1u);
}

TEST(ProgressLine, SmallNumbersKeepEverythingAt80) {
  Progress p = running(24 * kMiB, 10 * kMiB, 7.5 * kMiB, 2, 1, 3, 3);
  EXPECT_EQ(progress_line(p, 100),
            " 41.7%  10.0 MiB / 24.0 MiB  7.5 MiB/s  ETA 2s  elapsed 1s  3/3 servers transferring");
  EXPECT_EQ(progress_line(p, 80),
            " 41.7%  10.0 MiB / 24.0 MiB  7.5 MiB/s  ETA 2s  elapsed 1s  3/3 transferring");
  EXPECT_EQ(progress_line(p, 60), " 41.7%  10.0/24.0 MiB  7.5 MiB/s  ETA 2s  elapsed 1s");
  p.eta_s = -1;
  EXPECT_TRUE(has(progress_line(p, 80), "ETA --"));
}

TEST(ProgressLine, NeverShowsHundredPercentBeforeTheEnd) {
  Progress p;
  p.total_bytes = 100000;
  p.done_bytes = 99999;
  EXPECT_EQ(progress_line(p, 80).rfind(" 99.9%", 0), 0u);
  p.done_bytes = 100000;
  EXPECT_EQ(progress_line(p, 80).rfind("100.0%", 0), 0u);
}

TEST(FinalLine, TrueAtTheEnd) {
  const Progress p = done();
  std::string line = final_line(p, true, 120);
  EXPECT_EQ(line, "100.0%  1.0 GiB  in 9.5s  avg 107.8 MiB/s  from 3 servers (1 dropped)");
  for (std::size_t w : {40, 60, 80, 120}) {
    std::string l = final_line(p, true, w);
    SCOPED_TRACE("width " + std::to_string(w) + ": '" + l + "'");
    EXPECT_LT(display_width(l), w);
    EXPECT_EQ(l.rfind("100.0%", 0), 0u);
    EXPECT_TRUE(has(l, "in 9.5s"));
    EXPECT_FALSE(has(l, "0/3"));  // not "servers 0/3" at the end
  }
  // A long run shows minutes.
  Progress longer = p;
  longer.elapsed_s = 125;
  EXPECT_TRUE(has(final_line(longer, true, 120), "in 2m05s"));
}

TEST(FinalLine, ResumedBytesAreNotCountedAsThisRuns) {
  Progress p = done();
  p.chunks_resumed = 128;
  p.servers[0].bytes = 400 * kMiB;
  p.servers[1].bytes = 0;
  p.servers[2].bytes = 112 * kMiB;
  p.elapsed_s = 4;
  EXPECT_EQ(final_line(p, true, 120),
            "100.0%  1.0 GiB  (512.0 MiB resumed)  in 4.0s  avg 128.0 MiB/s  from 2 servers (1 "
            "dropped)");
}

TEST(FinalLine, FailureSaysWhereItStopped) {
  Progress p = middle();
  p.final = true;
  p.elapsed_s = 3.25;
  std::string line = final_line(p, false, 120);
  EXPECT_EQ(line, "stopped at 50.0%  512.0 MiB / 1.0 GiB  after 3.2s  1 dropped");
  for (std::size_t w : {40, 60, 80}) EXPECT_LT(display_width(final_line(p, false, w)), w);
  // All chunks there, but the run failed (a whole-file digest mismatch): no "100.0% in".
  Progress all = done();
  EXPECT_TRUE(has(final_line(all, false, 120), "stopped at 100.0%"));
}

TEST(ResumingLine, SaysHowManyChunksWereVerifiedBefore) {
  Progress p = middle();
  EXPECT_EQ(resuming_line(p), "");
  p.chunks_resumed = 3;
  p.chunks_total = 24;
  EXPECT_EQ(resuming_line(p), "resuming: 3 of 24 chunks already verified");
}

TEST(ServerLines, StateReasonAndFit) {
  const Progress p = middle();
  auto lines = server_lines(p, 120, 10);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "  fs-a  zone-a   300.0 MiB   60.0 MiB/s  4 conn  transferring");
  EXPECT_EQ(lines[1],
            "  fs-b  zone-b   100.0 MiB            -  0 conn  dropped: connection refused");
  for (std::size_t w : {40, 60, 80})
    for (const auto& l : server_lines(p, w, 10)) EXPECT_LT(display_width(l), w) << l;
  // Narrow: the zone goes before the state is cut.
  auto narrow = server_lines(p, 60, 10);
  EXPECT_EQ(narrow[1], "  fs-b   100.0 MiB            -  0 conn  dropped: connectio");
  // A long reason is cut; the zone column stays for every server (aligned).
  Progress long_reason = p;
  long_reason.servers[1].reason = std::string(200, 'r');
  for (const auto& l : server_lines(long_reason, 100, 10)) {
    EXPECT_TRUE(has(l, "  zone-")) << l;
    EXPECT_LT(display_width(l), 100u) << l;
  }
  // More servers than rows: the last line counts the rest.
  auto capped = server_lines(p, 80, 2);
  ASSERT_EQ(capped.size(), 2u);
  EXPECT_EQ(capped[1], "  ... and 2 more servers");
  EXPECT_TRUE(server_lines(p, 80, 0).empty());
}

TEST(ServerLines, BackingOffAndHostileText) {
  ServerProgress s = server("fs-\x1b[2Jx", "backing-off", 0, 0, 0, "HTTP 503:\nbusy\x07");
  EXPECT_EQ(server_state_text(s), "backing off: HTTP 503:\\nbusy\\x07");
  Progress p;
  p.servers = {s};
  auto lines = server_lines(p, 120, 5);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find('\x1b'), std::string::npos);
  EXPECT_TRUE(has(lines[0], "fs-\\x1b[2Jx"));
  auto fin = final_server_lines(p, 120);
  ASSERT_EQ(fin.size(), 1u);
  EXPECT_EQ(fin[0], "  fs-\\x1b[2Jx: backing off: HTTP 503:\\nbusy\\x07");
}

TEST(FinalServerLines, OnlyServersThatDidNotEndWell) {
  auto lines = final_server_lines(done(), 80);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "  fs-b: dropped: connection refused");
}

TEST(ServerEvents, EachDropOnce) {
  Progress before = middle();
  before.servers[1].state = "transferring";
  before.servers[1].reason.clear();
  Progress now = middle();
  auto e = server_events(&before, now);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "dfd: server fs-b dropped: connection refused");
  EXPECT_TRUE(server_events(&now, now).empty());
  EXPECT_EQ(server_events(nullptr, now).size(), 1u);
}

TEST(DisplayWidth, CountsCodePoints) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("z\xc3\xa9ro"), 4u);  // zéro
  EXPECT_EQ(cut_to_width("z\xc3\xa9ro", 2), "z\xc3\xa9");
  EXPECT_EQ(cut_to_width("abc", 5), "abc");
  EXPECT_EQ(cut_to_width("abc", 0), "");
}

TEST(TerminalWidth, FallsBackToColumnsThen80) {
  std::FILE* f = std::tmpfile();
  ASSERT_TRUE(f);
  ::setenv("COLUMNS", "57", 1);
  EXPECT_EQ(terminal_width(fileno(f)), 57u);
  ::setenv("COLUMNS", "junk", 1);
  EXPECT_EQ(terminal_width(fileno(f)), 80u);
  ::unsetenv("COLUMNS");
  EXPECT_EQ(terminal_width(fileno(f)), 80u);
  std::fclose(f);
}

namespace {
// What a ProgressView in `mode` writes for these Progress calls and then finish(ok).
std::string shown(ProgressView::Mode mode, bool verbose, const std::vector<Progress>& calls,
                  bool ok) {
  std::FILE* f = std::tmpfile();
  if (!f) return "tmpfile failed";
  {
    ProgressView v(mode, verbose, f, fileno(f));
    for (const auto& p : calls) v.show(p);
    v.finish(ok);
  }
  std::string out = read_all(f);
  std::fclose(f);
  return out;
}

Progress resumed_middle() {
  Progress p = middle();
  p.chunks_resumed = 5;
  return p;
}
}  // namespace

TEST(ProgressView, LiveRedrawsTheBlockInPlace) {
  ::setenv("COLUMNS", "100", 1);
  ::setenv("LINES", "30", 1);
  // The last one is final: kept for finish().
  std::string out =
      shown(ProgressView::Mode::kLive, true, {resumed_middle(), resumed_middle(), done()}, true);
  // The resuming line once, then the block (main line + 3 servers), then twice 3 lines up.
  EXPECT_EQ(out.rfind("resuming: 5 of 256 chunks already verified\n\r 50.0%", 0), 0u) << out;
  EXPECT_EQ(out.find("resuming", 1), std::string::npos);
  std::size_t ups = 0;
  for (std::size_t at = out.find("\x1b[3A"); at != std::string::npos;
       at = out.find("\x1b[3A", at + 1))
    ++ups;
  EXPECT_EQ(ups, 2u);
  EXPECT_TRUE(has(out, "100.0%  1.0 GiB  in 9.5s"));
  EXPECT_TRUE(has(out, "dropped: connection refused"));
  EXPECT_EQ(out.back(), '\n');
  ::unsetenv("COLUMNS");
  ::unsetenv("LINES");
}

TEST(ProgressView, QuietPrintsNothingAndEventsOnlyEvents) {
  EXPECT_EQ(shown(ProgressView::Mode::kOff, true, {resumed_middle()}, false), "");
  Progress before = resumed_middle();
  before.servers[1].state = "transferring";
  EXPECT_EQ(shown(ProgressView::Mode::kEvents, false, {before, middle(), middle()}, true),
            "dfd: resuming: 5 of 256 chunks already verified\n"
            "dfd: server fs-b dropped: connection refused\n");
  EXPECT_EQ(ProgressView::mode_for(true, false, STDERR_FILENO), ProgressView::Mode::kOff);
  EXPECT_EQ(ProgressView::mode_for(false, true, STDERR_FILENO), ProgressView::Mode::kOff);
}

TEST(ReportText, AServerThatEndedFailingIsNotOk) {
  DownloadReport r;
  r.ok = true;
  r.path = "out.bin";
  for (const char* id : {"fs-a", "fs-b", "fs-c"}) {
    ServerReport s;
    s.id = id;
    r.servers.push_back(s);
  }
  r.servers[2].dropped = true;
  r.servers[2].drop_reason = "failed 5 times in a row";
  Progress last = done();
  last.servers[1].state = "backing-off";
  last.servers[1].reason = "connection refused";
  std::string text = report_to_text(r, &last);
  EXPECT_TRUE(has(text, "  ok\n")) << text;  // fs-a
  EXPECT_TRUE(has(text, "  backing off: connection refused\n")) << text;
  EXPECT_TRUE(has(text, "  dropped: failed 5 times in a row\n")) << text;
  EXPECT_FALSE(has(report_to_text(r, nullptr), "backing off"));
}
