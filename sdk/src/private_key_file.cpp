#include "dfd/private_key_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dfd {

Result<std::string> read_private_key_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return Status::NotFound("cannot open '" + path + "': " + std::strerror(errno));
  }
  struct stat st {};
  std::string what;
  if (::fstat(fd, &st) != 0) {
    what = std::string("cannot stat: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    what = "is not a regular file";
  } else if (st.st_uid != ::geteuid()) {
    what = "is owned by uid " + std::to_string(st.st_uid) + ", not by the running user (uid " +
           std::to_string(::geteuid()) + ")";
  } else if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    what = std::string("has mode ") + mode +
           ": a private key must not be accessible by group or others (chmod 600)";
  } else if (st.st_size > (1 << 20)) {
    what = "is larger than 1 MiB";
  }
  std::string bytes;
  if (what.empty()) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) what = std::string("cannot read: ") + std::strerror(errno);
      if (n <= 0) break;
      bytes.append(buf, static_cast<std::size_t>(n));
    }
    OPENSSL_cleanse(buf, sizeof buf);
  }
  ::close(fd);
  if (!what.empty()) {
    OPENSSL_cleanse(&bytes[0], bytes.size());
    return Status::InvalidArgument("'" + path + "' " + what);
  }
  if (bytes.empty()) return Status::InvalidArgument("'" + path + "' is empty");
  return bytes;
}

}  // namespace dfd
