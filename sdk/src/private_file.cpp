#include "dfd/private_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dfd {

Status check_private_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    std::string msg = "cannot read '" + path + "': " + std::strerror(e);
    return e == ENOENT ? Status::NotFound(msg) : Status::IoError(msg);
  }
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

}  // namespace dfd
