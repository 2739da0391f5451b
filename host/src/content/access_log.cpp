#include "content/access_log.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace dfd::host {

namespace {

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (c >= 0xF5 || n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  // Overlong forms, surrogates and code points beyond U+10FFFF.
  if (c == 0xE0 && b(i + 1) < 0xA0) return 0;
  if (c == 0xED && b(i + 1) > 0x9F) return 0;
  if (c == 0xF0 && b(i + 1) < 0x90) return 0;
  if (c == 0xF4 && b(i + 1) > 0x8F) return 0;
  return n;
}

// "name":"value" with `value` cut to `max` bytes and escaped.
void append_string(std::string& out, const char* name, std::string_view value, std::size_t max) {
  out += '"';
  out += name;
  out += "\":\"";
  if (value.size() > max) value = value.substr(0, max);
  for (std::size_t i = 0; i < value.size();) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_sequence(value, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(value.data() + i, n);
        i += n;
      }
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

void append_uint(std::string& out, const char* name, std::uint64_t v) {
  out += '"';
  out += name;
  out += "\":";
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::size_t count_lines(std::string_view s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

std::string_view target_path(std::string_view target) noexcept {
  return target.substr(0, target.find_first_of("?#"));
}

std::string access_log_path_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return "is not a regular file";
    if (::access(path.c_str(), W_OK) != 0)
      return "is not writable: " + std::string(std::strerror(errno));
    return "";
  }
  if (errno != ENOENT) return "cannot be checked: " + std::string(std::strerror(errno));
  std::string dir = path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return "cannot be created: its directory '" + dir + "' does not exist";
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    return "cannot be created in '" + dir + "': " + std::string(std::strerror(errno));
  }
  return "";
}

std::string address_text(const std::string& key) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (key.size() == 4 && ::inet_ntop(AF_INET, key.data(), buf, sizeof buf)) return buf;
  if (key.size() == 16 && ::inet_ntop(AF_INET6, key.data(), buf, sizeof buf)) return buf;
  return "";
}

void append_access_line(std::string& out, const AccessEntry& e) {
  out += '{';
  append_string(out, "time", e.time, 64);
  out += ',';
  append_string(out, "request_id", e.request_id, 64);
  out += ',';
  append_string(out, "remote", e.remote, kMaxRemoteChars);
  out += ',';
  append_string(out, "method", e.method, kMaxMethodChars);
  out += ',';
  append_string(out, "path", target_path(e.target), kMaxPathChars);
  out += ',';
  append_uint(out, "status", static_cast<std::uint64_t>(e.status < 0 ? 0 : e.status));
  out += ',';
  append_uint(out, "bytes", e.bytes);
  out += ",\"duration_ms\":";
  char buf[32];
  double ms = e.duration_ms < 0 ? 0 : e.duration_ms;
  int n = std::snprintf(buf, sizeof buf, "%.3f", ms > 1e12 ? 1e12 : ms);
  out.append(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  out += ",\"complete\":";
  out += e.complete ? "true" : "false";
  if (!e.file_id.empty()) {
    out += ',';
    append_string(out, "file_id", e.file_id, kMaxFileIdChars);
    out += ',';
    append_string(out, "file_name", e.file_name, kMaxFileNameChars);
  }
  out += "}\n";
}

// ------------------------------------------------------------------------------------ writer

namespace {

int open_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

}  // namespace

Result<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& path, Logger& log,
                                                   Metrics& metrics) {
  int fd = path == "-" ? ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3) : open_append(path);
  if (fd < 0) {
    return Status::IoError("[content] access_log '" + path +
                           "': cannot open: " + std::strerror(errno));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(path, fd, log, metrics));
}

AccessLog::AccessLog(std::string path, int fd, Logger& log, Metrics& metrics)
    : path_(std::move(path)),
      fd_(fd),
      log_(log),
      lines_(metrics.counter("dfd_content_access_log_lines_total",
                             "Access-log lines written by the data plane")),
      dropped_(metrics.counter("dfd_content_access_log_dropped_total",
                               "Access-log lines dropped because the writer fell behind")),
      write_errors_(metrics.counter("dfd_content_access_log_write_errors_total",
                                    "Failed writes of the access log")),
      writer_([this] { run(); }) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  writer_.join();
  if (fd_ >= 0) ::close(fd_);
}

void AccessLog::submit(std::string& lines) {
  if (lines.empty()) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (pending_.size() + lines.size() > kMaxPendingBytes) {
      dropped_.add(static_cast<double>(count_lines(lines)));
    } else {
      // The writer sleeps until the first line of a batch, then gathers for kGatherTime or
      // kWriteBytes: a few wake-ups per second, whatever the request rate.
      wake = pending_.empty() || pending_.size() + lines.size() >= kWriteBytes;
      pending_ += lines;  // a copy, so the loop's buffer keeps its capacity
    }
  }
  lines.clear();
  if (wake) cv_.notify_one();
}

void AccessLog::run() {
  std::string batch;
  std::unique_lock<std::mutex> lock(mu_);
  auto urgent = [this] { return stop_ || pending_.size() >= kWriteBytes; };
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    cv_.wait_for(lock, kGatherTime, urgent);
    batch.clear();
    batch.swap(pending_);
    bool stop = stop_;
    lock.unlock();
    if (!batch.empty()) {
      follow_rotation();
      write_all(batch);
    }
    lock.lock();
    if (stop && pending_.empty()) return;
  }
}

// A file moved away or deleted (logrotate) is left to its new owner: the lines go to a new file at
// the path. If that cannot be created, the old file keeps them (and the error is logged once).
void AccessLog::follow_rotation() {
  if (path_ == "-") return;
  struct stat named {
  }, open{};
  bool same = ::stat(path_.c_str(), &named) == 0 && ::fstat(fd_, &open) == 0 &&
              named.st_dev == open.st_dev && named.st_ino == open.st_ino;
  if (same) return;
  int fd = open_append(path_);
  if (fd < 0) {
    if (!reopen_logged_) {
      reopen_logged_ = true;
      log_.error("[content] access_log '" + path_ + "': the file was moved or deleted and a new " +
                 "one cannot be created (" + std::strerror(errno) + "); writing to the old one");
    }
    return;
  }
  ::close(fd_);
  fd_ = fd;
  reopen_logged_ = false;
  error_logged_ = false;
  log_.info("[content] access_log '" + path_ + "': the file was rotated; writing to a new one");
}

void AccessLog::write_all(const std::string& bytes) {
  // On stderr (a pipe to journald, shared with the log lines) every write is whole lines of at
  // most PIPE_BUF bytes, which the kernel keeps in one piece; a file takes everything at once.
  constexpr std::size_t kPipeAtomic = 4096;
  std::size_t off = 0;
  while (off < bytes.size()) {
    std::size_t len = bytes.size() - off;
    if (path_ == "-" && len > kPipeAtomic) {
      std::size_t nl = bytes.rfind('\n', off + kPipeAtomic - 1);
      len = nl != std::string::npos && nl >= off ? nl + 1 - off : kPipeAtomic;
    }
    ssize_t n = ::write(fd_, bytes.data() + off, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      write_errors_.add(1);
      if (!error_logged_) {
        error_logged_ = true;  // once until the file is reopened
        log_.error("[content] access_log '" + path_ + "': write failed: " +
                   std::string(n < 0 ? std::strerror(errno) : "nothing written") +
                   "; lines are lost until it works again");
      }
      dropped_.add(static_cast<double>(count_lines(std::string_view(bytes).substr(off))));
      return;
    }
    off += static_cast<std::size_t>(n);
  }
  lines_.add(static_cast<double>(count_lines(bytes)));
}

}  // namespace dfd::host
