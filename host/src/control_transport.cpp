#include "control_transport.hpp"

#include <pistache/http.h>
#include <pistache/peer.h>

#include <sys/timerfd.h>
#include <unistd.h>

#include <vector>

namespace dfd::host {
namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;
namespace Polling = Pistache::Polling;

ControlTransport::ControlTransport(const std::shared_ptr<Tcp::Handler>& handler,
                                   ControlTimeouts limits)
    : Tcp::Transport(handler), handler_(handler), limits_(limits) {}

ControlTransport::~ControlTransport() {
  if (timer_fd_ >= 0) ::close(timer_fd_);
}

void ControlTransport::registerPoller(Polling::Epoll& poller) {
  Tcp::Transport::registerPoller(poller);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) throw std::runtime_error("timerfd_create failed");
  itimerspec every{};
  every.it_value.tv_nsec = 500 * 1000 * 1000;
  every.it_interval.tv_nsec = 500 * 1000 * 1000;
  ::timerfd_settime(timer_fd_, 0, &every, nullptr);
  poller.addFd(timer_fd_, Pistache::Flags<Polling::NotifyOn>(Polling::NotifyOn::Read),
               Polling::Tag(timer_fd_));
}

void ControlTransport::onReady(const Pistache::Aio::FdSet& fds) {
  for (const auto& entry : fds) {
    if (entry.getTag() == Polling::Tag(timer_fd_)) {
      std::uint64_t ticks = 0;
      (void)::read(timer_fd_, &ticks, sizeof ticks);
      close_expired();
      break;
    }
  }
  Tcp::Transport::onReady(fds);
}

void ControlTransport::close_expired() {
  namespace Private = Http::Private;
  auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Tcp::Peer>> expired;
  for (const auto& [fd, peer] : peers) {
    auto parser = Http::Handler::getParser(peer);
    if (!parser) continue;
    auto elapsed = now - parser->time();
    auto step = parser->step()->id();
    bool late = false;
    if (peer->isIdle()) {
      late = elapsed > limits_.keepalive;
    } else if (step == Private::RequestLineStep::Id || step == Private::HeadersStep::Id) {
      late = elapsed > limits_.header || elapsed > limits_.body;
    } else if (step == Private::BodyStep::Id) {
      late = elapsed > limits_.body;
    }
    if (late) expired.push_back(peer);
  }
  // The connection may be gone by the time the 408 is written: remove only what is still there.
  auto remove = [this](const std::shared_ptr<Tcp::Peer>& peer) {
    auto it = peers.find(peer->fd());
    if (it != peers.end() && it->second == peer) removePeer(peer);
  };
  for (auto& peer : expired) {
    if (peer->isIdle()) {
      remove(peer);
      continue;
    }
    Http::ResponseWriter response(Http::Version::Http11, this,
                                  static_cast<Http::Handler*>(handler_.get()), peer);
    response.send(Http::Code::Request_Timeout)
        .then([remove, peer](ssize_t) { remove(peer); },
              [remove, peer](std::exception_ptr) { remove(peer); });
  }
}

std::shared_ptr<Pistache::Aio::Handler> ControlTransport::clone() const {
  return std::make_shared<ControlTransport>(handler_->clone(), limits_);
}

}  // namespace dfd::host
