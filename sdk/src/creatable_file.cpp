#include "dfd/creatable_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dfd {

Status check_creatable_file(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) return Status::InvalidArgument("empty path");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return Status::InvalidArgument("'" + path + "' is not a regular file");
    if (::access(path.c_str(), W_OK) != 0) {
      return Status::PermissionDenied("'" + path + "' is not writable by this user");
    }
    return Status::Ok();
  }
  // ENOTDIR: a component is a file; the walk below names it.
  if (errno != ENOENT && errno != ENOTDIR) {
    return Status::IoError("'" + path + "': " + std::strerror(errno));
  }
  // The nearest ancestor that exists decides: the rest would be created below it.
  fs::path dir = fs::absolute(fs::path(path)).lexically_normal().parent_path();
  for (;;) {
    if (::stat(dir.c_str(), &st) == 0) break;
    if (errno != ENOENT && errno != ENOTDIR) {
      return Status::IoError("'" + dir.string() + "': " + std::strerror(errno));
    }
    if (dir == dir.parent_path())
      return Status::IoError("no existing directory above '" + path + "'");
    dir = dir.parent_path();
  }
  if (!S_ISDIR(st.st_mode))
    return Status::InvalidArgument("'" + dir.string() + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return Status::PermissionDenied("cannot create '" + path + "': '" + dir.string() +
                                    "' is not writable by this user");
  }
  return Status::Ok();
}

}  // namespace dfd
