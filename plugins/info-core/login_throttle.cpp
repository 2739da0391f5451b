#include "login_throttle.hpp"

namespace dfd::info {

LoginLimiter::Attempt MemoryLoginThrottle::limiter_attempt(const Attempt& a) {
  return LoginLimiter::Attempt{a.retry_after, a.account, a.address,
                               LoginLimiter::TimePoint(std::chrono::steady_clock::duration(a.at))};
}

Result<LoginThrottle::Attempt> MemoryLoginThrottle::reserve(const std::string& account,
                                                            const std::string& address) noexcept {
  return guard("login throttle", [&]() -> Result<Attempt> {
    LoginLimiter::Attempt a = limiter_.reserve(account, address, clock_.steady_now());
    return Attempt{a.retry_after, std::move(a.account), std::move(a.address),
                   a.at.time_since_epoch().count(), 0};
  });
}

Status MemoryLoginThrottle::succeeded(const Attempt& a) noexcept {
  return guard("login throttle", [&]() -> Status {
    limiter_.succeeded(limiter_attempt(a));
    return Status::Ok();
  });
}

Status MemoryLoginThrottle::cancelled(const Attempt& a) noexcept {
  return guard("login throttle", [&]() -> Status {
    limiter_.cancelled(limiter_attempt(a));
    return Status::Ok();
  });
}

}  // namespace dfd::info
