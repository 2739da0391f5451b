// A Pistache transport for connections the host accepted itself (the TLS listener,
// tls_listener.hpp): Pistache's own Tcp::Transport plus the header, body and keep-alive timeouts
// that Http::Endpoint applies to its connections (its transport class is internal to Pistache).
//
// Every 500 ms each connection's request parser clock (restarted by BoundedHttpHandler at the
// first byte of each request) is compared with the limits: an idle kept-alive connection is
// closed after `keepalive`; a request whose head is not complete after `header` (or whose whole
// body is not complete after `body`) is answered 408 and closed.
//
// Thread-safety: one copy per reactor thread (clone()); every member runs on that thread.
#pragma once

#include <pistache/transport.h>

#include <chrono>
#include <memory>

namespace dfd::host {

struct ControlTimeouts {
  std::chrono::milliseconds header{10000};
  std::chrono::milliseconds body{30000};
  std::chrono::milliseconds keepalive{60000};
};

class ControlTransport final : public Pistache::Tcp::Transport {
 public:
  ControlTransport(const std::shared_ptr<Pistache::Tcp::Handler>& handler, ControlTimeouts limits);
  ~ControlTransport() override;

  void registerPoller(Pistache::Polling::Epoll& poller) override;
  void onReady(const Pistache::Aio::FdSet& fds) override;
  std::shared_ptr<Pistache::Aio::Handler> clone() const override;

 private:
  void close_expired();

  std::shared_ptr<Pistache::Tcp::Handler> handler_;
  ControlTimeouts limits_;
  int timer_fd_ = -1;
};

}  // namespace dfd::host
