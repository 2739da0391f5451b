#include "dfd/private_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dfd {
namespace {

constexpr off_t kMaxPrivateFileBytes = 1 << 20;

Status cannot_read(const std::string& path, int e) {
  std::string msg = "cannot read '" + path + "': " + std::strerror(e);
  return e == ENOENT ? Status::NotFound(msg) : Status::IoError(msg);
}

// The rule, over what stat() or fstat() said about `path`.
Status judge(const std::string& path, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("'" + path + "' is not a regular file");
  if (st.st_uid != ::geteuid()) {
    return Status::PermissionDenied("'" + path + "' is owned by uid " + std::to_string(st.st_uid) +
                                    ", not by this process's user (uid " +
                                    std::to_string(::geteuid()) + ")");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::PermissionDenied("'" + path + "' is accessible by group or others (mode " +
                                    mode + "); run: chmod 600 '" + path + "'");
  }
  return Status::Ok();
}

}  // namespace

Status check_private_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return cannot_read(path, errno);
  return judge(path, st);
}

Result<std::string> read_private_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return cannot_read(path, errno);
  struct stat st {};
  Status verdict = ::fstat(fd, &st) != 0 ? cannot_read(path, errno) : judge(path, st);
  if (verdict.ok() && st.st_size > kMaxPrivateFileBytes) {
    verdict = Status::InvalidArgument("'" + path + "' is larger than 1 MiB");
  }
  std::string bytes;
  if (verdict.ok()) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) verdict = cannot_read(path, errno);
      if (n <= 0) break;
      bytes.append(buf, static_cast<std::size_t>(n));
      if (bytes.size() > static_cast<std::size_t>(kMaxPrivateFileBytes)) {
        verdict = Status::InvalidArgument("'" + path + "' is larger than 1 MiB");
        break;
      }
    }
    OPENSSL_cleanse(buf, sizeof buf);
  }
  ::close(fd);
  if (!verdict.ok()) {
    OPENSSL_cleanse(&bytes[0], bytes.size());
    return verdict;
  }
  if (bytes.empty()) return Status::InvalidArgument("'" + path + "' is empty");
  return bytes;
}

}  // namespace dfd
