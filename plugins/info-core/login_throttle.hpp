// info-core: where the login throttle keeps its failures. The rule is login_limiter.hpp's (three
// keys, the window, the hard pair limit and the backoffs of docs/api.md "Login throttling");
// a throttle decides where the failures live: in this server's memory (MemoryLoginThrottle) or in
// a store several information servers share (info-postgres), so a failure counted on one server
// counts on all.
//
// reserve() counts the attempt as a failure before the password is checked, atomically (parallel
// guesses, on one server or several, cannot outrun the limit); succeeded() and cancelled() take
// the reservation back as LoginLimiter does.
//
// Thread-safety: every method is safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dfd/host_services.hpp"
#include "dfd/status.hpp"
#include "login_limiter.hpp"

namespace dfd::info {

class LoginThrottle {
 public:
  // What reserve() hands out: the attempt's identity, for succeeded()/cancelled().
  struct Attempt {
    std::int64_t retry_after = 0;  // > 0: refused, wait this many seconds; nothing was reserved
    std::string account;
    std::string address;
    std::int64_t at = 0;      // when, in the throttle's own time base
    std::int64_t ticket = 0;  // the throttle's id of the reservation (0: none)
  };

  virtual ~LoginThrottle() = default;
  // Refuses (retry_after > 0) or reserves one failure on every key (retry_after == 0). An error
  // when the failures could not be read or written: the attempt must be refused (503).
  virtual Result<Attempt> reserve(const std::string& account,
                                  const std::string& address) noexcept = 0;
  // The password was right: the pair and account failures are cleared, the address keeps its
  // other failures but not this attempt.
  virtual Status succeeded(const Attempt& a) noexcept = 0;
  // The attempt was not judged (store error, account disabled): its reservation is taken back.
  virtual Status cancelled(const Attempt& a) noexcept = 0;
};

// The failures in this server's memory (LoginLimiter on the host's steady clock).
class MemoryLoginThrottle final : public LoginThrottle {
 public:
  MemoryLoginThrottle(LoginLimiter::Limits limits, const Clock& clock)
      : limiter_(limits), clock_(clock) {}
  Result<Attempt> reserve(const std::string& account, const std::string& address) noexcept override;
  Status succeeded(const Attempt& a) noexcept override;
  Status cancelled(const Attempt& a) noexcept override;

 private:
  static LoginLimiter::Attempt limiter_attempt(const Attempt& a);
  LoginLimiter limiter_;
  const Clock& clock_;
};

}  // namespace dfd::info
