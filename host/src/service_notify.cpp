#include "service_notify.hpp"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dfd::host {

std::unique_ptr<ServiceNotifier> ServiceNotifier::from_environment(
    std::shared_ptr<spdlog::logger> log) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  return std::make_unique<ServiceNotifier>(env ? env : "", std::move(log));
}

ServiceNotifier::ServiceNotifier(const std::string& address, std::shared_ptr<spdlog::logger> log)
    : log_(std::move(log)), name_(address) {
  if (address.empty()) return;
  if ((address[0] != '/' && address[0] != '@') || address.size() < 2 ||
      address.size() >= sizeof address_.sun_path) {
    log_->warn(
        "NOTIFY_SOCKET '{}' is not a socket path or @abstract name of at most {} bytes; "
        "no readiness notifications",
        address, sizeof address_.sun_path - 1);
    return;
  }
  address_.sun_family = AF_UNIX;
  std::memcpy(address_.sun_path, address.data(), address.size());
  if (address[0] == '@') address_.sun_path[0] = '\0';  // the abstract namespace
  address_length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    log_->warn("NOTIFY_SOCKET '{}': cannot create a socket: {}; no readiness notifications",
               address, std::strerror(errno));
  }
}

ServiceNotifier::~ServiceNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

bool ServiceNotifier::notify(std::string_view message) noexcept {
  if (fd_ < 0) return false;
  ssize_t n;
  do {
    n = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(&address_), address_length_);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(message.size())) return true;
  int err = n < 0 ? errno : EMSGSIZE;
  try {
    bool first = !warned_.exchange(true);
    log_->log(first ? spdlog::level::warn : spdlog::level::debug,
              "NOTIFY_SOCKET '{}': notification not sent ({}); the service manager may not see "
              "this state",
              name_, std::strerror(err));
  } catch (...) {  // logging must not fail the host either
  }
  return false;
}

bool ServiceNotifier::send(std::string_view head, std::string_view status) noexcept {
  if (fd_ < 0) return false;
  try {
    std::string m(head);
    if (!m.empty()) m += '\n';
    m += "STATUS=";
    m += status;
    return notify(m);
  } catch (...) {  // an allocation failure: nothing sent
    return false;
  }
}

bool ServiceNotifier::ready(std::string_view status) noexcept {
  return send("READY=1", status);
}

bool ServiceNotifier::status(std::string_view status) noexcept {
  return send("", status);
}

bool ServiceNotifier::reloading(std::string_view status) noexcept {
  // systemd >= 253 (Type=notify-reload) wants the time the reload began on CLOCK_MONOTONIC;
  // older ones ignore the line.
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  char head[64];
  std::snprintf(head, sizeof head, "RELOADING=1\nMONOTONIC_USEC=%llu",
                static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
                    static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL);
  return send(head, status);
}

bool ServiceNotifier::stopping(std::string_view status) noexcept {
  return send("STOPPING=1", status);
}

}  // namespace dfd::host
