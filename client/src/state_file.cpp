#include "state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "dfd/chunks.hpp"
#include "util.hpp"

namespace dfd::client {

std::size_t DownloadState::verified_count() const {
  std::size_t n = 0;
  for (bool b : verified) n += b;
  return n;
}

bool DownloadState::matches(const std::string& u, std::uint64_t sz, std::uint64_t cs,
                            const std::string& a) const {
  return uid == u && size == sz && chunk_size == cs && alg == a;
}

std::string encode_state(const DownloadState& s) {
  std::vector<unsigned char> bits((s.verified.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < s.verified.size(); ++i)
    if (s.verified[i]) bits[i / 8] |= static_cast<unsigned char>(1u << (i % 8));
  nlohmann::json j = {{"v", 1},
                      {"uid", s.uid},
                      {"size", s.size},
                      {"chunk_size", s.chunk_size},
                      {"alg", s.alg},
                      {"chunks", s.verified.size()},
                      {"verified", to_hex(bits.data(), bits.size())}};
  return j.dump() + "\n";
}

std::optional<DownloadState> decode_state(const std::string& text, std::string* why) {
  auto fail = [&](const char* w) -> std::optional<DownloadState> {
    if (why) *why = w;
    return std::nullopt;
  };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("not JSON");
  try {
    if (j.at("v").get<int>() != 1) return fail("unknown version");
    DownloadState s;
    s.uid = j.at("uid").get<std::string>();
    s.size = j.at("size").get<std::uint64_t>();
    s.chunk_size = j.at("chunk_size").get<std::uint64_t>();
    s.alg = j.at("alg").get<std::string>();
    auto chunks = j.at("chunks").get<std::uint64_t>();
    auto hex = j.at("verified").get<std::string>();
    if (s.chunk_size == 0) return fail("chunk_size is 0");
    if (chunks != dfd::chunk_count(s.size, s.chunk_size)) return fail("chunk count mismatch");
    if (hex.size() != ((chunks + 7) / 8) * 2 || (!hex.empty() && !is_hex(hex)))
      return fail("bitmap length mismatch");
    s.verified.assign(chunks, false);
    for (std::size_t i = 0; i < chunks; ++i) {
      unsigned byte = static_cast<unsigned>(std::stoul(hex.substr((i / 8) * 2, 2), nullptr, 16));
      s.verified[i] = (byte >> (i % 8)) & 1u;
    }
    // Bits beyond the last chunk must be zero (a cheap consistency check).
    if (chunks % 8) {
      unsigned last = static_cast<unsigned>(std::stoul(hex.substr(hex.size() - 2), nullptr, 16));
      if (last >> (chunks % 8)) return fail("stray bits in bitmap");
    }
    return s;
  } catch (const std::exception&) {
    return fail("missing or mistyped field");
  }
}

int write_file_atomic(const std::string& path, const std::string& data, unsigned mode) {
  std::string tmp = path + ".tmp";
  // A fresh temp file, never through a link planted at its name (O_EXCL fails on any leftover,
  // O_NOFOLLOW on a link): an old one (a crash's leftover, or a planted symlink) is removed first;
  // removing a symlink leaves its target alone.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return errno;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return errno;
  ::fchmod(fd, mode);  // the umask may have narrowed it
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return e;
  }
  int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return 0;
}

int save_state(const std::string& path, const DownloadState& s) {
  return write_file_atomic(path, encode_state(s), 0644);
}

std::optional<DownloadState> load_state(const std::string& path, std::string* why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT && why) *why = std::string("cannot read: ") + std::strerror(errno);
    return std::nullopt;
  }
  // The largest valid state (1 Mi chunks) is about 256 KiB of bitmap; read at most 2 MiB.
  std::string text;
  char buf[65536];
  ssize_t n = 0;
  while (text.size() <= (2u << 20) && (n = ::read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (n < 0 || text.size() > (2u << 20)) {
    if (why) *why = "unreadable or too large";
    return std::nullopt;
  }
  return decode_state(text, why);
}

}  // namespace dfd::client
