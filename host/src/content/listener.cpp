#include "content/listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dfd::host {

namespace {

std::string errno_text(int err) {
  char buf[128];
  return std::string(strerror_r(err, buf, sizeof buf));
}

// Splits "host:port" / "[v6]:port".
bool split_host_port(const std::string& s, std::string* host, std::string* port) {
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    *host = s.substr(1, close - 1);
    *port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    *host = s.substr(0, colon);
    *port = s.substr(colon + 1);
  }
  if (host->empty() || port->empty()) return false;
  for (char ch : *port) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

int open_reserve() noexcept {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

// The numeric address of `listen` (getaddrinfo without a lookup); the caller frees *res.
Status resolve_listen(const std::string& listen, addrinfo** res) {
  std::string host, port;
  if (!split_host_port(listen, &host, &port) || port.size() > 5 || std::stoi(port) > 65535) {
    return Status::InvalidArgument("'" + listen + "' is not HOST:PORT (e.g. 127.0.0.1:9101)");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, res);
  if (gai != 0) {
    return Status::InvalidArgument("'" + listen + "': the host must be a numeric IPv4 or [IPv6] " +
                                   "address (" + gai_strerror(gai) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status check_listen_address(const std::string& listen) {
  addrinfo* res = nullptr;
  Status st = resolve_listen(listen, &res);
  if (res) ::freeaddrinfo(res);
  return st;
}

Status Listener::open(const std::string& listen) {
  close();
  addrinfo* res = nullptr;
  if (Status st = resolve_listen(listen, &res); !st.ok()) {
    if (res) ::freeaddrinfo(res);
    return Status(st.code(), "listen address " + st.message());
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return Status::IoError("socket: " + errno_text(errno));
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    int err = errno;
    ::freeaddrinfo(res);
    ::close(fd);
    return Status::IoError("bind " + listen + ": " + errno_text(err));
  }
  ::freeaddrinfo(res);
  if (::listen(fd, 4096) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IoError("listen " + listen + ": " + errno_text(err));
  }
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
  char addr[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof addr);
    port_ = ntohs(s6->sin6_port);
    bound_ = "[" + std::string(addr) + "]:" + std::to_string(port_);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof addr);
    port_ = ntohs(s4->sin_port);
    bound_ = std::string(addr) + ":" + std::to_string(port_);
  }
  fd_ = fd;
  reserve_fd_ = open_reserve();
  return Status::Ok();
}

void Listener::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  fd_ = reserve_fd_ = -1;
}

Listener::Outcome Listener::accept(int* fd, sockaddr_storage* peer) noexcept {
  while (true) {
    socklen_t len = sizeof *peer;
    int c = ::accept4(fd_, reinterpret_cast<sockaddr*>(peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
      *fd = c;
      return Outcome::kAccepted;
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) return Outcome::kEmpty;
    if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
    if ((err == EMFILE || err == ENFILE) && reserve_fd_ >= 0) {
      ::close(reserve_fd_);
      int shed = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      int shed_err = errno;
      if (shed >= 0) ::close(shed);
      reserve_fd_ = open_reserve();
      if (shed >= 0) return Outcome::kShed;
      if (shed_err == EAGAIN || shed_err == EWOULDBLOCK) return Outcome::kEmpty;
    }
    return Outcome::kPause;  // EMFILE without a reserve, ENOBUFS, ENOMEM, ...
  }
}

}  // namespace dfd::host
