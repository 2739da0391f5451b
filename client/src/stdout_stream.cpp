#include "stdout_stream.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util.hpp"

namespace dfd::client {

namespace {
constexpr std::size_t kCopyBlock = 1 << 20;  // memory of the stream: one block

std::string temp_root() {
  const char* t = std::getenv("TMPDIR");
  std::string root = t && *t ? t : "/tmp";
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}
}  // namespace

void check_stdout_streaming(bool json, const std::string& output_dir, std::size_t files,
                            bool stdout_is_terminal) {
  if (json)
    throw CliError(exit_code::kUsage,
                   "--json and -o - do not go together: stdout carries the file's bytes (the "
                   "report is printed as text on stderr)");
  if (!output_dir.empty())
    throw CliError(exit_code::kUsage, "-o - (stdout) and -d DIR do not go together");
  if (files != 1)
    throw CliError(exit_code::kUsage, files == 0 ? "-o - needs the file named on the command line"
                                                 : "-o - streams one file; for several files "
                                                   "give -d DIR");
  if (stdout_is_terminal)
    throw CliError(exit_code::kUsage,
                   "-o - would write the file's bytes to this terminal: pipe them "
                   "(dfd get ID -o - | ...) or redirect them (> FILE)");
}

StdoutStream::StdoutStream(int out_fd) : out_fd_(out_fd) {
  std::string tmpl = temp_root() + "/dfd-stream-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))  // mode 0700
    throw CliError(exit_code::kLocalIo, "cannot create a temporary folder in " + temp_root() +
                                            " for -o -: " + std::strerror(errno) +
                                            " (set TMPDIR to another folder)");
  folder_ = buf.data();
  output_ = folder_ + "/stream";
}

StdoutStream::~StdoutStream() {
  if (part_fd_ >= 0) ::close(part_fd_);
  std::error_code ec;
  std::filesystem::remove_all(folder_, ec);  // does not follow links
}

std::uint64_t StdoutStream::window_for(std::uint64_t chunk_size) {
  return std::max<std::uint64_t>(std::uint64_t{64} << 20, 16 * chunk_size);
}

void StdoutStream::configure(DownloadOptions& o, std::uint64_t chunk_size, std::uint64_t window,
                             std::function<void()> stop) {
  o.output = output_;
  o.force = false;
  o.preallocate = false;
  o.window_bytes = window ? std::max(window, chunk_size) : window_for(chunk_size);
  o.on_prefix = [this](std::uint64_t n) { on_prefix(n); };
  stop_ = std::move(stop);
}

void StdoutStream::fail(const std::string& message) {
  if (!error_.empty()) return;
  error_ = message;
  if (stop_) stop_();
}

bool StdoutStream::write_out(const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(out_fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {  // a non-blocking stdout
      pollfd pfd{out_fd_, POLLOUT, 0};
      ::poll(&pfd, 1, 1000);
      continue;
    }
    if (w <= 0) {
      int e = w < 0 ? errno : EIO;
      fail(e == EPIPE ? "stdout was closed by its reader after " + std::to_string(written_) +
                            " bytes; the download stopped"
                      : std::string("cannot write to stdout: ") + std::strerror(e));
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
    written_ += static_cast<std::uint64_t>(w);
  }
  return true;
}

void StdoutStream::on_prefix(std::uint64_t n) {
  if (!error_.empty() || n <= written_) return;
  if (part_fd_ < 0) {
    part_fd_ = ::open((output_ + ".dfd-part").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (part_fd_ < 0) {
      fail("cannot open the temporary part file in " + folder_ + ": " + std::strerror(errno));
      return;
    }
  }
  struct stat st {};
  if (::fstat(part_fd_, &st) == 0)
    peak_disk_ = std::max(peak_disk_, static_cast<std::uint64_t>(st.st_blocks) * 512);
  std::uint64_t from = written_;
  std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(kCopyBlock, n - from)));
  while (written_ < n) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), n - written_));
    ssize_t r = ::pread(part_fd_, buf.data(), want, static_cast<off_t>(written_));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      fail("cannot read the temporary part file in " + folder_ + ": " +
           std::strerror(r < 0 ? errno : EIO));
      return;
    }
    if (!write_out(buf.data(), static_cast<std::size_t>(r))) return;
  }
  // The streamed bytes are never read again (the whole-file hasher is past them): free them.
  if (punch_ok_ &&
      ::fallocate(part_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from),
                  static_cast<off_t>(written_ - from)) != 0) {
    punch_ok_ = false;  // not supported here: the part keeps growing up to the file's size
    std::fprintf(stderr,
                 "dfd: warning: cannot free streamed bytes in %s (%s); -o - uses as "
                 "much temporary space as the file's size\n",
                 printable(folder_).c_str(), std::strerror(errno));
  }
}

}  // namespace dfd::client

namespace dfd::client {

void StdoutStream::finish(DownloadReport& r) const {
  r.path = "-";
  if (error_.empty()) return;
  r.ok = false;
  r.exit_code = exit_code::kLocalIo;
  r.error = error_;
}

std::string StdoutStream::summary() const {
  return "streamed " + human_size(written_) + " to stdout; temporary space used at most " +
         human_size(peak_disk_);
}

}  // namespace dfd::client
