#include "content/transport.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace dfd::host {

namespace {
constexpr std::size_t kMaxSendfile = 0x7ffff000;  // Linux caps one sendfile() here
}  // namespace

Io io_from_errno(int err) noexcept {
  if (err == EAGAIN || err == EWOULDBLOCK) return {IoOutcome::kWouldBlock, 0, true};
  return {IoOutcome::kError, 0, false};  // EPIPE, ECONNRESET: the peer went away
}

Io PlainTransport::read(char* buf, std::size_t n) noexcept {
  while (true) {
    ssize_t r = ::recv(fd_, buf, n, 0);
    if (r > 0)
      return {IoOutcome::kOk, static_cast<std::size_t>(r), static_cast<std::size_t>(r) < n};
    if (r == 0) return {IoOutcome::kEof, 0, true};
    if (errno != EINTR) return io_from_errno(errno);
  }
}

Io PlainTransport::write(const char* buf, std::size_t n, bool more) noexcept {
  while (true) {
    ssize_t r = ::send(fd_, buf, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (r >= 0) return {IoOutcome::kOk, static_cast<std::size_t>(r), false};
    if (errno != EINTR) return io_from_errno(errno);
  }
}

Io PlainTransport::send_file(int fd, std::uint64_t offset, std::size_t n) noexcept {
  while (true) {
    auto off = static_cast<off_t>(offset);
    ssize_t r = ::sendfile(fd_, fd, &off, std::min(n, kMaxSendfile));
    if (r >= 0) return {IoOutcome::kOk, static_cast<std::size_t>(r), false};
    if (errno != EINTR) return io_from_errno(errno);
  }
}

void PlainTransport::shutdown_write() noexcept {
  ::shutdown(fd_, SHUT_WR);
}

}  // namespace dfd::host
