#include "audit_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace dfd::info {

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::open(const std::string& path) {
  if (path.empty()) return Status::Ok();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);  // open() says why not
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::IoError("cannot open the audit log '" + path + "': " + std::strerror(errno));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return Status::Ok();
}

bool AuditLog::record(std::string_view event, const nlohmann::json& fields, TimePoint now) {
  if (fd_ < 0) return true;
  nlohmann::json line = nlohmann::json::object();
  line["time"] = format_rfc3339(now);
  line["event"] = std::string(event);
  for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  // O_APPEND: one write(2) is one atomic append on a local file system.
  ssize_t n = ::write(fd_, text.data(), text.size());
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace dfd::info
