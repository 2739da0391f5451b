#include "output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>

#include "part_file.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
constexpr std::size_t kMaxLockText = 1024;  // what is read of a holder's lock file

std::string read_lock_text(int fd) {
  char buf[kMaxLockText];
  ssize_t n;
  do {
    n = ::pread(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

std::string holder_text() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  return "dfd-lock\npid " + std::to_string(::getpid()) + "\nhost " + host + "\nsince " +
         std::to_string(static_cast<long long>(std::time(nullptr))) + "\n";
}

[[noreturn]] void fail_io(const std::string& what, const std::string& lock, int err) {
  if (err == ELOOP)
    throw CliError(exit_code::kLocalIo, lock + " is a symbolic link; dfd does not follow links " +
                                            "for its own files: remove it and run again");
  throw CliError(exit_code::kLocalIo, what + " " + lock + ": " + std::strerror(err));
}
}  // namespace

std::string lock_path_of(const std::string& path) {
  return path + ".dfd-lock";
}

std::string describe_lock_holder(const std::string& lock_text) {
  std::istringstream in(lock_text);
  std::string line, pid, host;
  long long since = -1;
  if (!std::getline(in, line) || line != "dfd-lock") return "another dfd";
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    std::string key = line.substr(0, sp), value = line.substr(sp + 1);
    if (key == "pid") pid = value;
    if (key == "host") host = value;
    if (key == "since") {
      try {
        since = std::stoll(value);
      } catch (const std::exception&) {
      }
    }
  }
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return "another dfd";
  std::string out = "dfd pid " + pid;
  if (!host.empty()) out += " on " + printable(host.substr(0, 255));
  if (since >= 0) {
    std::time_t t = static_cast<std::time_t>(since), now = std::time(nullptr);
    std::tm at{}, today{};
    if (::localtime_r(&t, &at) && ::localtime_r(&now, &today)) {
      bool same_day = at.tm_year == today.tm_year && at.tm_yday == today.tm_yday;
      char buf[64];
      std::strftime(buf, sizeof buf, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &at);
      out += std::string(" since ") + buf;
    }
  }
  return out;
}

OutputLock OutputLock::acquire(const std::string& path) {
  OutputLock lock;
  std::string lp = lock_path_of(path);
  // A previous holder removes the file when it ends: a file we opened just before that is no
  // longer the lock file. Try again a few times then (each try is immediate, never a wait).
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (auto e = refuse_non_regular(lp); !e.empty()) throw CliError(exit_code::kLocalIo, e);
    int fd = ::open(lp.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) fail_io("cannot open the lock file", lp, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int e = errno;
      ::close(fd);
      fail_io("cannot stat", lp, e);
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
      ::close(fd);
      throw CliError(
          exit_code::kLocalIo,
          lp + " is not a plain file (a link or a special file); remove it and run again");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      std::string text = e == EWOULDBLOCK ? read_lock_text(fd) : "";
      ::close(fd);
      if (e != EWOULDBLOCK) fail_io("cannot lock", lp, e);
      throw CliError(exit_code::kLocked, path + " is being downloaded by " +
                                             describe_lock_holder(text) + " (" + lp + ")");
    }
    struct stat now {};
    if (::lstat(lp.c_str(), &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
      ::close(fd);  // removed (or replaced) by the previous holder meanwhile
      continue;
    }
    std::string text = holder_text();
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      int e = errno;
      ::unlink(lp.c_str());
      ::close(fd);
      fail_io("cannot write the lock file", lp, e);
    }
    lock.fd_ = fd;
    lock.lock_path_ = lp;
    return lock;
  }
  throw CliError(exit_code::kLocked,
                 path + " is being downloaded by another dfd (" + lp + " keeps changing)");
}

void OutputLock::release() {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // while still holding the flock: see acquire()
  ::close(fd_);
  fd_ = -1;
}

OutputLock::~OutputLock() {
  release();
}

OutputLock::OutputLock(OutputLock&& other) noexcept
    : fd_(other.fd_), lock_path_(std::move(other.lock_path_)) {
  other.fd_ = -1;
}

OutputLock& OutputLock::operator=(OutputLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    lock_path_ = std::move(other.lock_path_);
    other.fd_ = -1;
  }
  return *this;
}

}  // namespace dfd::client
