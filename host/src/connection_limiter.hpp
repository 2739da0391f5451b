// Caps on the connections one listener holds: in total and per peer address.
//
// admit() is called once per accepted connection and returns a slot that counts the connection
// until the slot is destroyed (store it with the connection, so it is released however the
// connection ends), or nullptr when a cap is reached. The caps given to the constructor are used
// as they are; ControlPlane derives them from [server] and the process's file-descriptor limit.
// The counting is the data plane's AddressQuota (content/connection_limits.hpp); this class adds
// the slot that gives a unit back when the connection goes.
//
// Thread-safety: every member is safe to call from any thread; a slot may be destroyed on any
// thread, but not after the limiter (slots keep the limiter alive: it must be owned by a
// shared_ptr).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "content/connection_limits.hpp"

namespace dfd::host {

struct ConnectionCaps {
  std::size_t total = 1024;
  std::size_t per_address = 256;
};

class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  explicit ConnectionLimiter(ConnectionCaps caps)
      : caps_(caps), quota_(caps.total, caps.per_address) {}

  enum class Refusal { kNone, kTotal, kPerAddress };

  // A slot for a connection from `address`, or nullptr (then *why says which cap).
  std::shared_ptr<void> admit(const std::string& address, Refusal* why);

  std::size_t open() const { return quota_.total(); }  // connections holding a slot now
  const ConnectionCaps& caps() const { return caps_; }

 private:
  const ConnectionCaps caps_;
  AddressQuota quota_;
};

}  // namespace dfd::host
