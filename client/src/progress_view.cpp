#include "progress_view.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "util.hpp"

namespace dfd::client {

namespace {

constexpr const char* kSep = "  ";

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string percent(const Progress& p) {
  if (p.total_bytes == 0) return "100.0%";
  double pct = 100.0 * static_cast<double>(p.done_bytes) / static_cast<double>(p.total_bytes);
  if (p.done_bytes < p.total_bytes) pct = std::min(pct, 99.9);  // never "100.0%" before the end
  return fmt("%5.1f%%", pct);
}

// "10.1 MiB / 24.0 MiB", or (short) "10.1/24.0 MiB" when both have the same unit.
std::string sizes(std::uint64_t done, std::uint64_t total, bool short_form) {
  std::string d = human_size(done), t = human_size(total);
  if (!short_form) return d + " / " + t;
  auto ds = d.rfind(' '), ts = t.rfind(' ');
  if (ds != std::string::npos && ts != std::string::npos && d.substr(ds) == t.substr(ts))
    return d.substr(0, ds) + "/" + t;
  return d + "/" + t;
}

// Seconds of a whole run: "3.2s" under a minute, then "1m05s".
std::string run_time(double s) {
  return s < 59.95 ? fmt("%.1fs", std::max(s, 0.0)) : human_duration(s);
}

std::size_t count_state(const Progress& p, std::string_view state) {
  return static_cast<std::size_t>(
      std::count_if(p.servers.begin(), p.servers.end(),
                    [&](const ServerProgress& s) { return s.state == state; }));
}

std::uint64_t fetched_bytes(const Progress& p) {
  std::uint64_t n = 0;
  for (const auto& s : p.servers) n += s.bytes;
  return n;
}

// The first candidate (fields joined by two spaces) that fits in width-1 columns; the last
// candidate cut to size when none does.
std::string first_fitting(const std::vector<std::vector<std::string>>& candidates,
                          std::size_t width) {
  const std::size_t room = width > 1 ? width - 1 : 1;
  std::string line;
  for (const auto& fields : candidates) {
    line.clear();
    for (const auto& f : fields) {
      if (f.empty()) continue;
      if (!line.empty()) line += kSep;
      line += f;
    }
    if (display_width(line) <= room) return line;
  }
  return cut_to_width(line, room);
}

std::string pad_right(const std::string& s, std::size_t w) {
  std::size_t n = display_width(s);
  return n >= w ? s : s + std::string(w - n, ' ');
}

std::string pad_left(const std::string& s, std::size_t w) {
  std::size_t n = display_width(s);
  return n >= w ? s : std::string(w - n, ' ') + s;
}

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (end && *end == '\0' && n > 0 && n < 100000) ? static_cast<std::size_t>(n) : fallback;
}

}  // namespace

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;  // count every byte that starts a code point
  return n;
}

std::string cut_to_width(std::string_view s, std::size_t width) {
  std::size_t cols = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && cols++ == width)
      return std::string(s.substr(0, i));
  }
  return std::string(s);
}

std::string progress_line(const Progress& p, std::size_t width) {
  const std::string pct = percent(p);
  const std::string full = sizes(p.done_bytes, p.total_bytes, false);
  const std::string brief = sizes(p.done_bytes, p.total_bytes, true);
  const std::string speed = human_rate(p.speed);
  const std::string eta = "ETA " + (p.eta_s < 0 ? std::string("--") : human_duration(p.eta_s));
  const std::string elapsed = "elapsed " + human_duration(p.elapsed_s);
  const std::size_t servers = p.servers.empty() ? p.servers_usable : p.servers.size();
  const std::size_t dropped = count_state(p, "dropped");
  std::string srv = std::to_string(p.servers_transferring) + "/" + std::to_string(servers);
  std::string srv_long = srv + " servers transferring";
  if (dropped) srv_long += " (" + std::to_string(dropped) + " dropped)";
  const std::string srv_medium = srv + " transferring";
  const std::string srv_short = srv + " srv";
  return first_fitting({{pct, full, speed, eta, elapsed, srv_long},
                        {pct, full, speed, eta, elapsed, srv_medium},
                        {pct, full, speed, eta, elapsed, srv_short},
                        {pct, brief, speed, eta, elapsed, srv_short},
                        {pct, brief, speed, eta, elapsed},
                        {pct, brief, speed, eta},
                        {pct, speed, eta},
                        {pct, eta},
                        {pct}},
                       width);
}

std::string final_line(const Progress& p, bool ok, std::size_t width) {
  const std::size_t dropped = count_state(p, "dropped");
  const std::string dropped_text = dropped ? std::to_string(dropped) + " dropped" : "";
  if (!ok) {
    std::string pct = percent(p);
    const std::string at = "stopped at " + pct.substr(pct.find_first_not_of(' '));
    const std::string after = "after " + run_time(p.elapsed_s);
    return first_fitting({{at, sizes(p.done_bytes, p.total_bytes, false), after, dropped_text},
                          {at, sizes(p.done_bytes, p.total_bytes, true), after, dropped_text},
                          {at, sizes(p.done_bytes, p.total_bytes, true), after},
                          {at, after},
                          {at}},
                         width);
  }
  // Bytes of this run: what the servers delivered (the rest was resumed). Without per-server
  // numbers, everything counts as this run's.
  const std::uint64_t fetched = p.servers.empty() ? p.done_bytes : fetched_bytes(p);
  const std::uint64_t resumed = p.total_bytes > fetched ? p.total_bytes - fetched : 0;
  const std::string total = "100.0%";
  const std::string size = human_size(p.total_bytes);
  const std::string resumed_text =
      p.chunks_resumed && resumed ? "(" + human_size(resumed) + " resumed)" : "";
  const std::string in = "in " + run_time(p.elapsed_s);
  const std::string avg =
      "avg " + human_rate(p.elapsed_s > 0 ? static_cast<double>(fetched) / p.elapsed_s : 0);
  std::size_t sending = 0;
  for (const auto& s : p.servers) sending += s.bytes > 0 ? 1 : 0;
  const std::string from = p.servers.empty() ? ""
                                             : "from " + std::to_string(sending) +
                                                   (sending == 1 ? " server" : " servers") +
                                                   (dropped ? " (" + dropped_text + ")" : "");
  return first_fitting({{total, size, resumed_text, in, avg, from},
                        {total, size, resumed_text, in, avg},
                        {total, size, in, avg},
                        {total, size, in},
                        {total, in},
                        {total}},
                       width);
}

std::string resuming_line(const Progress& p) {
  if (p.chunks_resumed == 0) return "";
  return "resuming: " + std::to_string(p.chunks_resumed) + " of " + std::to_string(p.chunks_total) +
         " chunks already verified";
}

std::string server_state_text(const ServerProgress& s) {
  std::string state = s.state.empty() ? "-" : s.state;
  if (state == "backing-off") state = "backing off";
  if (!s.reason.empty()) state += ": " + s.reason;
  return printable(state);
}

std::vector<std::string> server_lines(const Progress& p, std::size_t width, std::size_t max_lines) {
  std::vector<std::string> out;
  if (max_lines == 0 || p.servers.empty()) return out;
  const std::size_t room = width > 1 ? width - 1 : 1;
  std::size_t wid = 0, wzone = 0, wconn = 0;
  for (const auto& s : p.servers) {
    wid = std::max(wid, std::min<std::size_t>(display_width(printable(s.id)), 20));
    wzone = std::max(wzone, std::min<std::size_t>(display_width(printable(s.zone)), 12));
    wconn = std::max(wconn, std::to_string(s.connections).size());
  }
  // The zone column stays when the other columns leave room for a short state; a long reason is
  // cut at the end of the line instead.
  const bool zones = 2 + wid + 2 + wzone + 2 + 10 + 2 + 11 + 2 + wconn + 5 + 2 + 12 <= room;
  const std::size_t shown = p.servers.size() <= max_lines ? p.servers.size() : max_lines - 1;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& s = p.servers[i];
    // A server that is not receiving now has no speed (the engine's window still remembers one).
    const bool receiving = s.state == "transferring" || s.state == "waiting";
    std::string line = "  " + pad_right(cut_to_width(printable(s.id), 20), wid) + kSep;
    if (zones) line += pad_right(cut_to_width(printable(s.zone), 12), wzone) + kSep;
    line += pad_left(human_size(s.bytes), 10) + kSep +
            pad_left(receiving ? human_rate(s.speed) : "-", 11) + kSep +
            pad_left(std::to_string(s.connections), wconn) + " conn" + kSep + server_state_text(s);
    out.push_back(cut_to_width(line, room));
  }
  if (shown < p.servers.size())
    out.push_back(cut_to_width(
        "  ... and " + std::to_string(p.servers.size() - shown) + " more servers", room));
  return out;
}

std::vector<std::string> final_server_lines(const Progress& p, std::size_t width) {
  std::vector<std::string> out;
  const std::size_t room = width > 1 ? width - 1 : 1;
  for (const auto& s : p.servers)
    if (s.state == "dropped" || s.state == "backing-off")
      out.push_back(cut_to_width("  " + printable(s.id) + ": " + server_state_text(s), room));
  return out;
}

std::vector<std::string> server_events(const Progress* before, const Progress& now) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < now.servers.size(); ++i) {
    const auto& s = now.servers[i];
    if (s.state != "dropped") continue;
    if (before && i < before->servers.size() && before->servers[i].id == s.id &&
        before->servers[i].state == "dropped")
      continue;
    out.push_back("dfd: server " + printable(s.id) + " " + server_state_text(s));
  }
  return out;
}

std::size_t terminal_width(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return env_size("COLUMNS", 80);
}

std::size_t terminal_rows(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
  return env_size("LINES", 24);
}

ProgressView::ProgressView(Mode mode, bool verbose, std::FILE* out, int fd)
    : mode_(mode), verbose_(verbose), out_(out), fd_(fd) {}

ProgressView::~ProgressView() {
  end();
}

ProgressView::Mode ProgressView::mode_for(bool quiet, bool no_progress, int fd) {
  if (quiet || no_progress) return Mode::kOff;
  return ::isatty(fd) ? Mode::kLive : Mode::kEvents;
}

void ProgressView::show(const Progress& p) {
  if (mode_ == Mode::kOff) {
    last_ = p;
    have_last_ = true;
    return;
  }
  if (!started_) {
    started_ = true;
    std::string r = resuming_line(p);
    if (!r.empty()) std::fprintf(out_, "%s%s\n", mode_ == Mode::kEvents ? "dfd: " : "", r.c_str());
  }
  if (mode_ == Mode::kEvents) {
    for (const auto& e : server_events(have_last_ ? &last_ : nullptr, p))
      std::fprintf(out_, "%s\n", e.c_str());
    std::fflush(out_);
  }
  last_ = p;
  have_last_ = true;
  if (mode_ != Mode::kLive || p.final) return;  // the final line is drawn by finish()
  const std::size_t width = terminal_width(fd_);
  std::vector<std::string> lines{progress_line(p, width)};
  if (verbose_) {
    const std::size_t rows = terminal_rows(fd_);
    auto more = server_lines(p, width, rows > 3 ? rows - 3 : 1);
    lines.insert(lines.end(), more.begin(), more.end());
  }
  draw(lines);
}

void ProgressView::finish(bool ok) {
  if (mode_ != Mode::kLive || !have_last_) return end();
  const std::size_t width = terminal_width(fd_);
  std::vector<std::string> lines{final_line(last_, ok, width)};
  const std::size_t rows = terminal_rows(fd_);
  auto more = verbose_ ? server_lines(last_, width, rows > 3 ? rows - 3 : 1)
                       : final_server_lines(last_, width);
  lines.insert(lines.end(), more.begin(), more.end());
  draw(lines);
  end();
}

void ProgressView::end() {
  if (!drawn_) return;
  std::fputc('\n', out_);
  std::fflush(out_);
  drawn_ = false;
  lines_up_ = 0;
}

void ProgressView::draw(const std::vector<std::string>& lines) {
  std::string s = "\r";
  if (lines_up_ > 0) s += "\x1b[" + std::to_string(lines_up_) + "A";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    s += lines[i];
    s += "\x1b[K";
    if (i + 1 < lines.size()) s += "\n";
  }
  s += "\x1b[J";  // a block that got shorter leaves nothing behind
  std::fwrite(s.data(), 1, s.size(), out_);
  std::fflush(out_);
  lines_up_ = lines.empty() ? 0 : lines.size() - 1;
  drawn_ = true;
}

}  // namespace dfd::client
