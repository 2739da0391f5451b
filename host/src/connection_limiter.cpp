#include "connection_limiter.hpp"

namespace dfd::host {

std::shared_ptr<void> ConnectionLimiter::admit(const std::string& address, Refusal* why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (total_ >= caps_.total) {
      *why = Refusal::kTotal;
      return nullptr;
    }
    std::size_t& n = per_address_[address];
    if (n >= caps_.per_address) {
      *why = Refusal::kPerAddress;
      return nullptr;
    }
    ++n;
    ++total_;
  }
  *why = Refusal::kNone;
  auto self = shared_from_this();
  // The slot's deleter releases the count; the pointer itself is only a token.
  return std::shared_ptr<void>(static_cast<void*>(this),
                               [self, address](void*) { self->release(address); });
}

void ConnectionLimiter::release(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  --total_;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

std::size_t ConnectionLimiter::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

}  // namespace dfd::host
