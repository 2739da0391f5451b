// The data plane's listening socket: binding "HOST:PORT" and accepting in a way that survives
// running out of descriptors.
//
// Out of descriptors (EMFILE/ENFILE), a plain accept loop either spins (the listener stays
// readable) or stops accepting, leaving clients hanging in the backlog while idle connections
// hold every descriptor. accept() instead uses the classic reserve descriptor: it closes a spare
// descriptor kept open for this, accepts the pending connection, closes it at once (the client
// sees a clean close, not a hang) and opens the spare again. Only when even that fails does it
// ask the caller to pause accepting for a moment.
//
// Thread-safety: open() and close() from the controlling thread; accept() from the one loop that
// owns the listener.
#pragma once

#include <sys/socket.h>

#include <string>

#include "dfd/status.hpp"

namespace dfd::host {

// Ok when Listener::open() can use `listen` as an address: "HOST:PORT" or "[V6]:PORT" with a
// numeric host (no name lookup) and a port 0..65535. Opens nothing (parse_content_options runs
// it, so --check refuses what a start would). The error says what is wrong, without a prefix.
Status check_listen_address(const std::string& listen);

class Listener {
 public:
  Listener() = default;
  ~Listener() { close(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens (backlog 4096) on "HOST:PORT" / "[V6]:PORT" (port 0 = any free port).
  Status open(const std::string& listen);
  void close() noexcept;

  int fd() const noexcept { return fd_; }
  const std::string& bound_address() const noexcept { return bound_; }  // "127.0.0.1:PORT"
  int port() const noexcept { return port_; }

  enum class Outcome {
    kAccepted,  // *fd is a new non-blocking connection from *peer
    kEmpty,     // nothing pending
    kShed,      // out of descriptors: one pending connection was accepted and closed at once
    kPause,     // out of descriptors (or memory) and nothing could be shed: pause accepting
  };
  Outcome accept(int* fd, sockaddr_storage* peer) noexcept;

 private:
  int fd_ = -1;
  int reserve_fd_ = -1;
  std::string bound_;
  int port_ = 0;
};

}  // namespace dfd::host
