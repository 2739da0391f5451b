#include "part_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util.hpp"

namespace dfd::client {

namespace {

std::string errno_message(const std::string& what, const std::string& path, int err) {
  if (err == ELOOP)
    return what + " " + path + ": it is a symbolic link; dfd does not write through links: " +
           "remove it and run again";
  return what + " " + path + ": " + std::strerror(err);
}

// "" when `needed` more bytes fit next to `path`.
std::string check_space(const std::string& path, std::uint64_t needed) {
  std::uint64_t free = free_bytes(path);
  return needed > free ? space_message(path, needed, free) : "";
}

// fstat checks of an opened part: a regular file with a single link.
std::string check_opened(int fd, const std::string& path, struct stat& st) {
  if (::fstat(fd, &st) != 0) return errno_message("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) return path + " is not a regular file; remove it and run again";
  if (st.st_nlink != 1)
    return path + " has other hard links (writing it would change another file); remove it and " +
           "run again";
  return "";
}

PartOpen fail(int fd, std::string error) {
  if (fd >= 0) ::close(fd);
  return {-1, std::move(error)};
}
}  // namespace

// Root may use the reserved blocks too.
std::uint64_t free_bytes(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(dir_of(path).c_str(), &vfs) != 0) return UINT64_MAX;  // unknown: do not refuse
  std::uint64_t blocks = ::geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail;
  return blocks * static_cast<std::uint64_t>(vfs.f_frsize);
}

std::uint64_t unallocated_bytes(int fd, std::uint64_t size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  std::uint64_t allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
  return allocated < size ? size - allocated : 0;
}

std::string space_message(const std::string& path, std::uint64_t needed, std::uint64_t free,
                          const std::string& cause) {
  return (cause.empty() ? "not enough free space for " + path : cause) + ": the download needs " +
         human_size(needed) + " (" + std::to_string(needed) + " bytes) more, " + dir_of(path) +
         " has " + human_size(free) + " (" + std::to_string(free) +
         " bytes) free; make room (or use -o on another disk) and " + "run again";
}

std::string refuse_non_regular(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "";
  if (S_ISLNK(st.st_mode))
    return path + " is a symbolic link; dfd does not write through links: remove it and run again";
  if (!S_ISREG(st.st_mode)) return path + " is not a regular file; remove it and run again";
  return "";
}

PartOpen open_part_to_resume(const std::string& path, std::uint64_t size) {
  int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail(-1, errno_message("cannot open", path, errno));
  struct stat st {};
  if (auto e = check_opened(fd, path, st); !e.empty()) return fail(fd, e);
  if (static_cast<std::uint64_t>(st.st_size) != size)
    return fail(fd, path + " changed size; remove it and run again");
  if (std::uint64_t needed = unallocated_bytes(fd, size); needed > 0) {
    if (auto e = check_space(path, needed); !e.empty()) return fail(fd, e);
  }
  return {fd, ""};
}

PartOpen create_part(const std::string& path, std::uint64_t size) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return fail(-1, errno_message("cannot remove the old", path, errno));
  if (auto e = check_space(path, size); !e.empty()) return fail(-1, e);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return fail(-1, errno_message("cannot create", path, errno));
  struct stat st {};
  if (auto e = check_opened(fd, path, st); !e.empty()) return fail(fd, e);
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int e = errno;
    ::unlink(path.c_str());
    std::string m = errno_message("cannot size", path, e);
    if (e == EFBIG) m += " (disk full or file size limit)";
    return fail(fd, m);
  }
  return {fd, ""};
}

std::string preallocate_part(int fd, const std::string& path, std::uint64_t size) {
  if (size == 0) return "";
  std::uint64_t needed = unallocated_bytes(fd, size);
  int e = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (e == 0 || e == EOPNOTSUPP || e == EINVAL) return "";  // sparse where it cannot
  if (e == ENOSPC || e == EDQUOT) return space_message(path, needed, free_bytes(path));
  std::string m = errno_message("cannot allocate", path, e);
  if (e == EFBIG) m += " (disk full or file size limit)";
  return m;
}

}  // namespace dfd::client
