#include "audit_tail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dfd::info {

namespace {
Status io_error(const std::string& what, const std::string& path) {
  const int err = errno;
  const std::string text = what + " the audit log '" + path + "': " + std::strerror(err);
  return err == ENOENT ? Status::NotFound(text) : Status::IoError(text);
}
}  // namespace

Result<AuditTail> read_audit_tail(const std::string& path, std::size_t max_bytes, std::size_t limit,
                                  std::string_view event) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return io_error("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = io_error("cannot stat", path);
    ::close(fd);
    return s;
  }
  AuditTail tail;
  tail.file_bytes = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t start = tail.file_bytes > max_bytes ? tail.file_bytes - max_bytes : 0;
  std::string text(static_cast<std::size_t>(tail.file_bytes - start), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::pread(fd, text.data() + got, text.size() - got, static_cast<off_t>(start + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = io_error("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;  // truncated meanwhile (copytruncate)
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  tail.scanned_bytes = got;

  // Only whole lines: from the first line start (the read may begin mid-line); a last piece
  // without its '\n' is still being written.
  std::size_t at = 0;
  if (start > 0) {
    at = text.find('\n');
    at = at == std::string::npos ? text.size() : at + 1;
  }
  std::vector<std::string_view> lines;
  for (std::size_t nl = text.find('\n', at); nl != std::string::npos; nl = text.find('\n', at)) {
    lines.emplace_back(text.data() + at, nl - at);
    at = nl + 1;
  }
  for (auto it = lines.rbegin(); it != lines.rend() && tail.entries.size() < limit; ++it) {
    auto j = nlohmann::json::parse(*it, nullptr, false);
    if (!j.is_object()) continue;
    if (!event.empty()) {
      auto e = j.find("event");
      if (e == j.end() || !e->is_string() || e->get_ref<const std::string&>() != event) continue;
    }
    tail.entries.push_back(std::move(j));
  }
  tail.complete = start == 0 || tail.entries.size() >= limit;
  return tail;
}

}  // namespace dfd::info
