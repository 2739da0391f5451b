// Tells a service manager what the host is doing: systemd's notification protocol (sd_notify(3),
// "Type=notify"), spoken without libsystemd. The protocol is one datagram per message, of
// newline-separated KEY=VALUE lines, sent to the AF_UNIX socket named by $NOTIFY_SOCKET:
//   READY=1                      every plugin started, the listeners bound, /readyz would say 200
//   RELOADING=1 + MONOTONIC_USEC a SIGHUP rescan began (READY=1 again when it finished)
//   STOPPING=1                   shutdown began
//   STATUS=...                   one line for `systemctl status`
// $NOTIFY_SOCKET is a file system path ("/run/systemd/notify") or, starting with '@', a name in
// the abstract namespace ('@' stands for the leading NUL byte). Other forms (systemd's vsock:)
// are not supported: the notifier logs that once and stays off.
//
// Contract: never blocks (MSG_DONTWAIT) and never fails the host. A datagram that cannot be sent
// (no listener, a full queue) is dropped; the first failure is logged as a warning, later ones at
// debug level. Without $NOTIFY_SOCKET (not started by systemd, or Type=simple) every call is a
// no-op that returns false.
//
// Thread-safety: notify() may be called from any thread (one sendto per call); construct and
// destroy it on one thread.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace dfd::host {

class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET (unset or empty: off).
  static std::unique_ptr<ServiceNotifier> from_environment(std::shared_ptr<spdlog::logger> log);
  // `address`: a path or "@name"; empty: off.
  ServiceNotifier(const std::string& address, std::shared_ptr<spdlog::logger> log);
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  bool enabled() const noexcept { return fd_ >= 0; }

  // Sends `message` ("READY=1\nSTATUS=serving") as one datagram. True when the kernel took it.
  bool notify(std::string_view message) noexcept;

  // The messages the host sends, each with a STATUS line (`status` must not contain '\n').
  bool ready(std::string_view status) noexcept;
  bool status(std::string_view status) noexcept;
  bool reloading(std::string_view status) noexcept;  // with MONOTONIC_USEC (systemd >= 253)
  bool stopping(std::string_view status) noexcept;

 private:
  // Sends "HEAD\nSTATUS=status" (just the STATUS line when `head` is empty).
  bool send(std::string_view head, std::string_view status) noexcept;

  std::shared_ptr<spdlog::logger> log_;
  int fd_ = -1;
  sockaddr_un address_{};
  socklen_t address_length_ = 0;
  std::string name_;  // as given, for log lines
  std::atomic<bool> warned_{false};
};

}  // namespace dfd::host
