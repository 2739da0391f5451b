#include "connection_limiter.hpp"

namespace dfd::host {

std::shared_ptr<void> ConnectionLimiter::admit(const std::string& address, Refusal* why) {
  switch (quota_.acquire(address)) {
    case AddressQuota::Verdict::kOverTotal:
      *why = Refusal::kTotal;
      return nullptr;
    case AddressQuota::Verdict::kOverAddress:
      *why = Refusal::kPerAddress;
      return nullptr;
    case AddressQuota::Verdict::kAdmitted:
      break;
  }
  *why = Refusal::kNone;
  auto self = shared_from_this();
  // The slot's deleter gives the unit back; the pointer itself is only a token.
  return std::shared_ptr<void>(static_cast<void*>(this),
                               [self, address](void*) { self->quota_.release(address); });
}

}  // namespace dfd::host
