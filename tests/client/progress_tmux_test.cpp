// Issue 13, done-when 2: the progress display of the real `dfd get` in a real terminal. tmux
// (its own server socket in the test's directory, a fixed window size) runs dfd against three real
// HTTP file servers on 127.0.0.1 (TestServer, throttled so the download lasts a few seconds); the
// test reads the screen with `tmux capture-pane -p` and asserts what a person sees at the start
// (the resuming line and the first progress line), in the middle with a killed file server (-v
// shows it backing off or dropped, with a reason) and at the end (100 %, elapsed time, average
// speed, the report), and that at 50 columns no line of the progress display wraps. Conditions are
// polled (bounded), never waited for with fixed sleeps. Also: -q in a terminal, and stderr that
// is not a terminal (only events).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include "cli_cluster.hpp"
#include "harness.hpp"
#include "state_file.hpp"

using namespace dfd::test;
using namespace dfd::test::cli;

namespace {

bool have_tmux() {
  return run({"sh", "-c", "command -v tmux"}).status == 0;
}

std::vector<std::string> lines_of(const std::string& screen) {
  std::vector<std::string> out;
  std::istringstream in(screen);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The first line of the screen that starts with `prefix` ("" if none).
std::string line_starting(const std::string& screen, const std::string& prefix) {
  for (const auto& l : lines_of(screen))
    if (l.rfind(prefix, 0) == 0) return l;
  return "";
}

// The progress line: "  12.3%  ..." (the live one) or "100.0%  ..." (the final one).
const std::regex kProgressLine(R"(^ ?\s?\d{1,3}\.\d%  .*)");

std::string progress_line_of(const std::string& screen) {
  for (const auto& l : lines_of(screen))
    if (std::regex_match(l, kProgressLine)) return l;
  return "";
}

double percent_of(const std::string& line) {
  return line.empty() ? -1 : std::stod(line);
}

// One tmux server on its own socket (`socket`: a path in the test's temporary directory) with one
// session running `script`, killed at the end (and by a watchdog if this test process dies).
class Tmux {
 public:
  Tmux(const std::string& socket, int cols, int rows, const std::string& script) : socket_(socket) {
    watchdog_ = start_watchdog("tmux -S '" + socket_ + "' kill-server");
    auto r = run({"tmux", "-S", socket_, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x",
                  std::to_string(cols), "-y", std::to_string(rows), "sh " + script},
                 "", {{"TMUX", ""}});
    started_ = r.status == 0;
    EXPECT_TRUE(started_) << r.output;
  }
  ~Tmux() {
    run({"tmux", "-S", socket_, "kill-server"});
    stop_watchdog(watchdog_);
  }

  // What a person sees now (-J: a wrapped line comes back as one long line).
  std::string screen() const {
    return run({"tmux", "-S", socket_, "capture-pane", "-p", "-J", "-t", "t"}).output;
  }

  // Polls the screen until `ok` holds (at most `limit`); returns the last screen seen.
  std::string wait_for(const std::function<bool(const std::string&)>& ok,
                       std::chrono::seconds limit = std::chrono::seconds(30)) const {
    auto until = std::chrono::steady_clock::now() + limit;
    std::string s;
    while (started_) {
      s = screen();
      if (ok(s) || std::chrono::steady_clock::now() > until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return s;
  }

 private:
  std::string socket_;
  pid_t watchdog_ = -1;
  bool started_ = false;
};

// A shell script that runs dfd with the cluster's environment, then says how it exited and stays
// (the pane keeps its last screen).
std::string dfd_script(Cluster& c, const std::string& name, const std::string& args) {
  std::string path = c.dir.file(name);
  std::string s;
  for (const auto& [k, v] : c.env) s += "export " + k + "='" + v + "'\n";
  s += "unset COLUMNS LINES\n";
  s += "'" + bin("dfd") + "' " + args + "\n";
  s += "echo \"[dfd exited $?]\"\nexec sleep 600\n";
  write_file(path, s);
  return path;
}

bool exited(const std::string& screen) {
  return screen.find("[dfd exited ") != std::string::npos;
}

}  // namespace

TEST(ProgressTmux, StartMiddleWithAKilledServerAndEnd) {
  if (!have_tmux()) GTEST_SKIP() << "tmux is not installed: the progress display is not tested";
  Cluster c(24 * kMiB);
  c.login();
  // A first run stops after 4 chunks: the second one resumes.
  auto first = c.dfd({"get", "7", "-o", c.out(), "--no-progress", "--stop-after-chunks", "4"});
  ASSERT_EQ(first.status, 130) << first.output;
  auto state = dfd::client::load_state(c.out() + ".dfd-state");
  ASSERT_TRUE(state);
  std::size_t resumed = 0;
  for (bool v : state->verified) resumed += v ? 1 : 0;
  ASSERT_GE(resumed, 4u);

  // 384 KiB/s per connection: ~4.5 MiB/s from three servers, ~3 MiB/s from two.
  for (auto& s : c.fs) s->faults.rate = 384 * 1024;
  Tmux tmux(c.dir.file("tmux.sock"), 100, 30,
            dfd_script(c, "run.sh", "get 7 -o '" + c.out() + "' -v"));

  // The start: the resuming line, the progress line, a line per server.
  const std::string resuming =
      "resuming: " + std::to_string(resumed) + " of 24 chunks already verified";
  std::string start = tmux.wait_for([&](const std::string& s) {
    return exited(s) || (s.find(resuming) != std::string::npos && !progress_line_of(s).empty() &&
                         !line_starting(s, "  fs-c").empty());
  });
  ASSERT_FALSE(exited(start)) << start;
  EXPECT_EQ(lines_of(start).at(0), resuming) << start;
  std::string line = progress_line_of(start);
  EXPECT_LT(percent_of(line), 100) << start;
  EXPECT_NE(line.find(" / 24.0 MiB"), std::string::npos) << start;
  EXPECT_NE(line.find("ETA "), std::string::npos) << start;
  EXPECT_NE(line.find("elapsed "), std::string::npos) << start;
  EXPECT_NE(line.find("servers transferring"), std::string::npos) << start;
  EXPECT_NE(line_starting(start, "  fs-a").find("zone-a"), std::string::npos) << start;

  // The middle: fs-b has sent some bytes and every server is transferring; then it is killed.
  std::string before = tmux.wait_for([&](const std::string& s) {
    return exited(s) || (c.fs[1]->body_bytes.load() > kMiB &&
                         progress_line_of(s).find("3/3 servers transferring") != std::string::npos);
  });
  ASSERT_FALSE(exited(before)) << before;
  EXPECT_NE(line_starting(before, "  fs-b").find("transferring"), std::string::npos) << before;
  c.fs[1]->kill();
  std::string middle = tmux.wait_for([&](const std::string& s) {
    std::string b = line_starting(s, "  fs-b");
    return exited(s) || b.find("dropped: ") != std::string::npos ||
           b.find("backing off: ") != std::string::npos;
  });
  ASSERT_FALSE(exited(middle)) << "the download ended before the killed server was shown:\n"
                               << middle;
  std::string fsb = line_starting(middle, "  fs-b");
  EXPECT_TRUE(std::regex_search(fsb, std::regex(R"((dropped|backing off): \S)"))) << middle;
  EXPECT_EQ(fsb.find("transferring"), std::string::npos) << middle;
  EXPECT_LT(percent_of(progress_line_of(middle)), 100) << middle;
  EXPECT_NE(line_starting(middle, "  fs-a").find("conn"), std::string::npos) << middle;

  // The end: a true final line, the servers' final states, the report, exit 0.
  std::string end = tmux.wait_for(exited, std::chrono::seconds(40));
  ASSERT_TRUE(exited(end)) << end;
  EXPECT_NE(end.find("[dfd exited 0]"), std::string::npos) << end;
  std::string fin = progress_line_of(end);
  EXPECT_EQ(fin.rfind("100.0%  24.0 MiB  (", 0), 0u) << end;
  EXPECT_NE(fin.find(" resumed)  in "), std::string::npos) << end;
  EXPECT_NE(fin.find("  avg "), std::string::npos) << end;
  // fs-b may have delivered no verified chunk before it was killed.
  EXPECT_TRUE(std::regex_search(fin, std::regex(R"(from [23] servers)"))) << end;
  EXPECT_FALSE(std::regex_search(end, std::regex(R"(\b0/3\b)"))) << end;
  std::string fsb_end = line_starting(end, "  fs-b");
  EXPECT_TRUE(std::regex_search(fsb_end, std::regex(R"((dropped|backing off): \S)"))) << end;
  EXPECT_NE(end.find("done: " + c.out()), std::string::npos) << end;
  // The report on stdout does not call the killed server "ok" either.
  for (const auto& l : lines_of(end)) {
    if (l.rfind("  fs-b ", 0) == 0) {
      EXPECT_FALSE(std::regex_search(l, std::regex(R"(\sok\s*$)"))) << end;
    }
  }
  EXPECT_EQ(read_file(c.out()), *c.file.data);
}

TEST(ProgressTmux, FiftyColumnsNothingWraps) {
  if (!have_tmux()) GTEST_SKIP() << "tmux is not installed: the progress display is not tested";
  Cluster c(16 * kMiB);
  c.login();
  for (auto& s : c.fs) s->faults.rate = 384 * 1024;
  Tmux tmux(c.dir.file("tmux.sock"), 50, 20, dfd_script(c, "run.sh", "get 7 -o '" + c.out() + "'"));
  std::string live = tmux.wait_for([&](const std::string& s) {
    double pct = percent_of(progress_line_of(s));
    return exited(s) || (pct > 0 && pct < 100);
  });
  ASSERT_FALSE(exited(live)) << live;
  std::string line = progress_line_of(live);
  EXPECT_LT(line.size(), 50u) << live;
  EXPECT_NE(line.find("ETA "), std::string::npos) << live;
  EXPECT_NE(line.find("/s"), std::string::npos) << live;
  std::string end = tmux.wait_for(exited, std::chrono::seconds(40));
  ASSERT_TRUE(exited(end)) << end;
  EXPECT_NE(end.find("[dfd exited 0]"), std::string::npos) << end;
  std::string fin = progress_line_of(end);
  EXPECT_EQ(fin.rfind("100.0%  16.0 MiB  in ", 0), 0u) << end;
  EXPECT_LT(fin.size(), 50u) << end;
  // -J joins wrapped lines: every line of the progress display is shorter than the window.
  for (const auto& l : lines_of(end)) {
    if (std::regex_match(l, kProgressLine)) {
      EXPECT_LT(l.size(), 50u) << l;
    }
  }
}

TEST(ProgressTmux, QuietShowsNothing) {
  if (!have_tmux()) GTEST_SKIP() << "tmux is not installed: the progress display is not tested";
  Cluster c(4 * kMiB);
  c.login();
  Tmux tmux(c.dir.file("tmux.sock"), 80, 10,
            dfd_script(c, "run.sh", "get 7 -o '" + c.out() + "' -q"));
  std::string end = tmux.wait_for(exited);
  ASSERT_TRUE(exited(end)) << end;
  EXPECT_EQ(lines_of(end).at(0), "[dfd exited 0]") << end;
  EXPECT_EQ(read_file(c.out()), *c.file.data);
  // A failure is still said on stderr, and the exit code tells.
  Tmux again(c.dir.file("tmux2.sock"), 80, 10,
             dfd_script(c, "run2.sh", "get 7 -o '" + c.out() + "' -q"));
  std::string exists = again.wait_for(exited);
  EXPECT_TRUE(
      std::regex_search(exists, std::regex(R"(^dfd: .*already exists.*\n\[dfd exited 6\])")))
      << exists;
}

// stderr not a terminal: no progress line, but the resuming line and a dropped server are told.
TEST(ProgressPipe, EventsOnlyWhenNotATerminal) {
  Cluster c(12 * kMiB);
  c.login();
  auto first = c.dfd({"get", "7", "-o", c.out(), "--no-progress", "--stop-after-chunks", "2"});
  ASSERT_EQ(first.status, 130) << first.output;
  // fs-b is down: dropped after its failures in a row (~3 s), long before ~5 s of download.
  c.fs[1]->kill();
  for (auto& s : c.fs) s->faults.rate = 256 * 1024;
  auto r = c.dfd({"get", "7", "-o", c.out()});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(std::regex_search(
      r.output, std::regex(R"((^|\n)dfd: resuming: \d+ of 12 chunks already verified\n)")))
      << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"((^|\n)dfd: server fs-b dropped: \S)")))
      << r.output;
  EXPECT_EQ(r.output.find('\r'), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("ETA"), std::string::npos) << r.output;
  // --no-progress: none of it.
  for (auto& s : c.fs) s->faults.rate = 0;
  auto quiet = c.dfd({"get", "7", "-o", c.out(), "--force", "--no-progress"});
  ASSERT_EQ(quiet.status, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find("dfd: server"), std::string::npos) << quiet.output;
}
