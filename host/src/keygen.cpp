#include "keygen.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "dfd/event_signing.hpp"

namespace dfd::host {
namespace {

// Writes `text` to a new file `path` with `mode`; refuses to replace an existing one.
Status write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return Status::AlreadyExists("cannot create '" + path + "': " + std::strerror(errno) +
                                 (errno == EEXIST ? " (refusing to overwrite a key)" : ""));
  }
  ::fchmod(fd, mode);  // whatever the umask was
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status st = Status::IoError("cannot write '" + path + "': " + std::strerror(errno));
      ::close(fd);
      ::unlink(path.c_str());
      return st;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Status::IoError("cannot write '" + path + "': " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<KeygenResult> keygen(const std::string& dir, const std::string& name) {
  if (!events::valid_sender_name(name)) {
    return Status::InvalidArgument("--name '" + name +
                                   "': a sender name is 1-128 letters, digits, '-', '_', '.' "
                                   "(a server id)");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    if (::mkdir(dir.c_str(), 0700) != 0) {
      return Status::IoError("cannot create '" + dir + "': " + std::strerror(errno));
    }
  }
  KeygenResult r;
  r.key_file = dir + "/" + name + ".key";
  r.pub_file = dir + "/" + name + ".pub";
  if (std::filesystem::exists(r.pub_file, ec)) {
    return Status::AlreadyExists("'" + r.pub_file + "' exists (refusing to overwrite a key)");
  }
  auto pair = events::generate_key_pair();
  if (!pair.ok()) return pair.status();
  Status st = write_new_file(r.key_file, pair->private_pem, 0600);
  OPENSSL_cleanse(&pair->private_pem[0], pair->private_pem.size());
  if (!st.ok()) return st;
  if (Status p = write_new_file(r.pub_file, pair->public_pem, 0644); !p.ok()) {
    ::unlink(r.key_file.c_str());
    return p;
  }
  r.key_id = pair->key_id;
  return r;
}

}  // namespace dfd::host
