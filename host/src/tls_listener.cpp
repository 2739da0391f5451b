#include "tls_listener.hpp"

#include <pistache/peer.h>
#include <pistache/reactor.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "bounded_http_handler.hpp"
#include "dfd/openssl_error.hpp"

namespace dfd::host {
namespace Tcp = Pistache::Tcp;
namespace Aio = Pistache::Aio;

namespace {
using Clock = std::chrono::steady_clock;

// One connection whose TLS handshake is not done yet.
struct Handshake {
  SSL* ssl = nullptr;
  std::shared_ptr<void> slot;
  sockaddr_storage address{};
  Clock::time_point deadline;
};

std::string address_text(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (a.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  } else if (a.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

}  // namespace

struct TlsListener::Impl {
  TlsListenerOptions options;
  SslCtxPtr ctx;
  std::shared_ptr<Pistache::Http::Handler> handler;
  std::shared_ptr<ConnectionLimiter> limiter;
  RefusalHook on_refusal;
  std::shared_ptr<spdlog::logger> log;

  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  Aio::Reactor reactor;
  Aio::Reactor::Key transport_key;
  bool reactor_running = false;
  std::thread thread;
  std::unordered_map<int, Handshake> handshakes;  // by descriptor; the handshake thread only

  void refused(const char* reason) {
    if (on_refusal) on_refusal(reason);
  }

  void close_handshake(int fd) {
    auto it = handshakes.find(fd);
    if (it == handshakes.end()) return;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    SSL_free(it->second.ssl);
    ::close(fd);
    handshakes.erase(it);
  }

  void accept_some() {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&from), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
          log->warn("control plane (https): accept: {}", std::strerror(errno));
        }
        return;
      }
      ConnectionLimiter::Refusal why = ConnectionLimiter::Refusal::kNone;
      auto slot = limiter->admit(address_text(from), &why);
      if (!slot) {  // no TLS work for a connection over a cap
        ::close(fd);
        refused("too_many_connections");
        continue;
      }
      SSL* ssl = SSL_new(ctx.get());
      if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
        if (ssl) SSL_free(ssl);
        ERR_clear_error();
        ::close(fd);
        refused("tls_handshake_failed");
        continue;
      }
      SSL_set_accept_state(ssl);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      handshakes[fd] =
          Handshake{ssl, std::move(slot), from, Clock::now() + options.handshake_timeout};
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
      step(fd);
    }
  }

  // Advances one handshake as far as the socket allows.
  void step(int fd) {
    auto it = handshakes.find(fd);
    if (it == handshakes.end()) return;
    Handshake& h = it->second;
    ERR_clear_error();
    int rc = SSL_do_handshake(h.ssl);
    if (rc == 1) {
      established(fd);
      return;
    }
    int err = SSL_get_error(h.ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      epoll_event ev{};
      ev.events = err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
      ev.data.fd = fd;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
      return;
    }
    if (log->should_log(spdlog::level::debug)) {
      std::string reason = take_openssl_error();
      log->debug("control plane (https): handshake with {} failed: {}", address_text(h.address),
                 reason.empty() ? "connection closed" : reason);
    }
    ERR_clear_error();
    close_handshake(fd);
    refused("tls_handshake_failed");
  }

  void established(int fd) {
    auto node = handshakes.extract(fd);
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    Handshake& h = node.mapped();
    try {
      auto peer = Tcp::Peer::CreateSSL(
          fd, Pistache::Address::fromUnix(reinterpret_cast<sockaddr*>(&h.address)), h.ssl);
      h.ssl = nullptr;  // the Peer frees it
      peer->putData(BoundedHttpHandler::kAdmittedSlotKey, std::move(h.slot));
      auto transports = reactor.handlers(transport_key);
      auto transport = std::static_pointer_cast<Tcp::Transport>(
          transports[static_cast<std::size_t>(fd) % transports.size()]);
      transport->handleNewPeer(peer);
    } catch (const std::exception& e) {
      log->warn("control plane (https): cannot hand over a connection: {}", e.what());
      if (h.ssl) SSL_free(h.ssl);
      ::close(fd);
    }
  }

  void expire() {
    auto now = Clock::now();
    std::vector<int> late;
    for (const auto& [fd, h] : handshakes) {
      if (now >= h.deadline) late.push_back(fd);
    }
    for (int fd : late) {
      close_handshake(fd);
      refused("tls_handshake_timeout");
    }
  }

  void run() {
    epoll_event events[64];
    for (;;) {
      int n = ::epoll_wait(epoll_fd, events, 64, 100);
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_fd) {
          for (auto& [hfd, h] : handshakes) {
            SSL_free(h.ssl);
            ::close(hfd);
          }
          handshakes.clear();
          return;
        }
        if (fd == listen_fd) {
          accept_some();
        } else {
          step(fd);
        }
      }
      expire();
    }
  }
};

TlsListener::TlsListener(TlsListenerOptions options, SslCtxPtr ctx,
                         std::shared_ptr<Pistache::Http::Handler> handler,
                         std::shared_ptr<ConnectionLimiter> limiter, RefusalHook on_refusal,
                         std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->ctx = std::move(ctx);
  impl_->handler = std::move(handler);
  impl_->limiter = std::move(limiter);
  impl_->on_refusal = std::move(on_refusal);
  impl_->log = std::move(log);
}

TlsListener::~TlsListener() {
  shutdown();
}

Status TlsListener::bind() {
  Impl& s = *impl_;
  const std::string where =
      "[server] listen " + s.options.host + ":" + std::to_string(s.options.port);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(s.options.port));
  if (s.options.host == "localhost") {
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (::inet_pton(AF_INET, s.options.host.c_str(), &a.sin_addr) != 1) {
    return Status::InvalidArgument(where + ": not an IPv4 address");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Unavailable(where + ": socket: " + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1024) != 0) {
    int err = errno;
    ::close(fd);
    return Status::Unavailable(where + ": cannot bind: " + std::strerror(err));
  }
  s.listen_fd = fd;
  return Status::Ok();
}

Status TlsListener::serve() {
  Impl& s = *impl_;
  if (s.listen_fd < 0) return Status::FailedPrecondition("https listener not bound");
  try {
    s.reactor.init(
        Aio::AsyncContext(static_cast<std::size_t>(s.options.threads), s.options.threads_name));
    s.transport_key =
        s.reactor.addHandler(std::make_shared<ControlTransport>(s.handler, s.options.timeouts));
    s.reactor.run();
    s.reactor_running = true;
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("https listener: cannot start its threads: ") +
                               e.what());
  }
  s.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  s.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.epoll_fd < 0 || s.wake_fd < 0) {
    return Status::Unavailable(std::string("https listener: ") + std::strerror(errno));
  }
  for (int fd : {s.listen_fd, s.wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  s.thread = std::thread([&s] { s.run(); });
  pthread_setname_np(s.thread.native_handle(), "dfd-handshake");
  return Status::Ok();
}

int TlsListener::port() const {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (impl_->listen_fd < 0 ||
      ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return 0;
  }
  return ntohs(a.sin_port);
}

void TlsListener::shutdown() noexcept {
  Impl& s = *impl_;
  if (s.thread.joinable()) {
    std::uint64_t one = 1;
    (void)::write(s.wake_fd, &one, sizeof one);
    s.thread.join();
  }
  for (int* fd : {&s.listen_fd, &s.epoll_fd, &s.wake_fd}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  if (s.reactor_running) {
    try {
      s.reactor.shutdown();
    } catch (const std::exception& e) {
      s.log->warn("https listener shutdown: {}", e.what());
    }
    s.reactor_running = false;
  }
}

}  // namespace dfd::host
