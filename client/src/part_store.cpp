#include "part_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "hasher.hpp"
#include "part_file.hpp"
#include "state_file.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
// Largest single pwrite. Linux (6.x, ext4 and others with large folios) sizes the page-cache
// folios a write allocates by the write's length. Folios above 32 KiB (order > 3) come straight
// from the buddy allocator's high-order free blocks, which are exactly the blocks a VM with free
// page reporting has handed back to its hypervisor: the first touch of each page then costs a
// host fault, and a 1 GiB download spent 1-2 s more system time in the page-cache copy. Folios of
// at most 32 KiB come from per-CPU lists of recently freed pages. Measured on this project's VMs,
// 1 GiB after memory was touched, freed and left for 6 s (as bench/download-vs-aria2c --memory
// cold does): 256 KiB writes 1.56-2.19 s, 32 KiB pieces 1.00-1.05 s; no difference beyond noise
// when memory is warm.
constexpr std::size_t kWritePiece = 32u << 10;
}  // namespace

std::string io_message(const std::string& what, const std::string& path, int err) {
  std::string m = what + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) m += " (disk full or file size limit)";
  return m;
}

PartStore::PartStore(const Manifest& manifest, std::string output, bool force, bool preallocate)
    : manifest_(manifest),
      output_(std::move(output)),
      part_path_(output_ + ".dfd-part"),
      state_path_(output_ + ".dfd-state"),
      force_(force),
      preallocate_(preallocate) {}

PartStore::~PartStore() {
  if (fd_ >= 0) ::close(fd_);
}

int PartStore::open(std::string& error) {
  const Manifest& m = manifest_;
  struct stat st {};
  if (::lstat(output_.c_str(), &st) == 0 && !force_) {
    error = output_ + " already exists (use --force to overwrite it)";
    return exit_code::kExists;
  }
  // Nothing planted at our own paths is followed (a symlink to a victim file).
  for (const auto& p : {part_path_, state_path_, state_path_ + ".tmp"}) {
    if (auto e = refuse_non_regular(p); !e.empty()) {
      error = e;
      return exit_code::kLocalIo;
    }
  }
  resumed_.assign(m.chunk_count(), false);
  bool resume = false;
  std::string why;
  if (auto old = load_state(state_path_, &why)) {
    struct stat pst {};
    if (old->matches(m.uid, m.size, m.chunk_size, m.alg) &&
        ::lstat(part_path_.c_str(), &pst) == 0 &&
        static_cast<std::uint64_t>(pst.st_size) == m.size) {
      resumed_ = old->verified;
      resume = true;
    } else {
      restarted_ = true;
    }
  } else if (!why.empty()) {
    restarted_ = true;  // a corrupt state file: start over
  }
  PartOpen part =
      resume ? open_part_to_resume(part_path_, m.size) : create_part(part_path_, m.size);
  if (part.fd < 0) {
    error = part.error;
    return exit_code::kLocalIo;
  }
  fd_ = part.fd;
  resumed_any_ = resume && std::count(resumed_.begin(), resumed_.end(), true) > 0;
  return 0;
}

int PartStore::write_at(const char* p, std::size_t n, std::uint64_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd_, p, std::min(n, kWritePiece), static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    p += w;
    n -= static_cast<std::size_t>(w);
    off += static_cast<std::uint64_t>(w);
  }
  return 0;
}

std::string PartStore::write_error(int err) const {
  if (err != ENOSPC && err != EDQUOT) return io_message("cannot write", part_path_, err);
  return space_message(
      part_path_, std::max<std::uint64_t>(unallocated_bytes(fd_, manifest_.size), 1),
      free_bytes(part_path_), "cannot write " + part_path_ + " (" + std::strerror(err) + ")");
}

std::string PartStore::chunk_verified() {
  if (!preallocate_ || preallocated_) return "";
  preallocated_ = true;
  return preallocate_part(fd_, part_path_, manifest_.size);
}

void PartStore::discard() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(part_path_.c_str());
  ::unlink(state_path_.c_str());
}

std::string PartStore::save(const std::vector<bool>& verified, bool always) {
  if (!always && !changed_) return "";
  DownloadState st;
  st.uid = manifest_.uid;
  st.size = manifest_.size;
  st.chunk_size = manifest_.chunk_size;
  st.alg = manifest_.alg;
  st.verified = verified;
  if (int e = save_state(state_path_, st)) {
    if (e == ENOSPC || e == EDQUOT)
      return space_message(state_path_, encode_state(st).size(), free_bytes(state_path_),
                           "cannot write " + state_path_ + " (" + std::strerror(e) + ")");
    return io_message("cannot write state file", state_path_, e);
  }
  changed_ = false;
  return "";
}

long PartStore::reverify(std::vector<bool>& bits) {
  const Manifest& m = manifest_;
  Hasher h(m.alg);
  std::vector<char> buf(1 << 20);
  long bad = 0;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (!bits[i]) continue;
    h.reset();
    std::uint64_t off = m.chunk_offset(i), left = m.chunk_length(i);
    while (left) {
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      ssize_t n = ::pread(fd_, buf.data(), want, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;
      h.update(buf.data(), static_cast<std::size_t>(n));
      off += static_cast<std::uint64_t>(n);
      left -= static_cast<std::uint64_t>(n);
    }
    if (h.final_hex() != m.chunks[i]) {
      bits[i] = false;
      ++bad;
    }
  }
  return bad;
}

std::string PartStore::commit() {
  if (::fsync(fd_) != 0) return io_message("cannot sync", part_path_, errno);
  ::close(fd_);
  fd_ = -1;
  if (::rename(part_path_.c_str(), output_.c_str()) != 0)
    return io_message("cannot rename the download to", output_, errno);
  int dir = ::open(dir_of(output_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  ::unlink(state_path_.c_str());
  return "";
}

}  // namespace dfd::client
