#include "content/connection_limits.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstring>

namespace dfd::host {

std::string address_key(const sockaddr_storage& addr) noexcept {
  try {
    if (addr.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
      return std::string(reinterpret_cast<const char*>(&a->sin_addr), 4);
    }
    if (addr.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
      const auto* b = reinterpret_cast<const char*>(&a->sin6_addr);
      if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) return std::string(b + 12, 4);
      return std::string(b, 16);
    }
  } catch (...) {
  }
  return {};
}

AddressQuota::Verdict AddressQuota::acquire(const std::string& address) noexcept {
  std::lock_guard<std::mutex> g(mu_);
  if (total_ >= max_total_) return Verdict::kOverTotal;
  try {
    std::size_t& n = by_address_[address];
    if (n >= max_per_address_) {
      if (n == 0) by_address_.erase(address);
      return Verdict::kOverAddress;
    }
    ++n;
  } catch (...) {
    return Verdict::kOverTotal;  // out of memory: refuse
  }
  ++total_;
  return Verdict::kAdmitted;
}

void AddressQuota::release(const std::string& address) noexcept {
  std::lock_guard<std::mutex> g(mu_);
  auto it = by_address_.find(address);
  if (it == by_address_.end()) return;
  if (--it->second == 0) by_address_.erase(it);
  --total_;
}

std::size_t AddressQuota::total() const noexcept {
  std::lock_guard<std::mutex> g(mu_);
  return total_;
}

std::size_t AddressQuota::held_by(const std::string& address) const noexcept {
  std::lock_guard<std::mutex> g(mu_);
  auto it = by_address_.find(address);
  return it == by_address_.end() ? 0 : it->second;
}

DescriptorBudget descriptor_budget(std::size_t configured, std::uint64_t nofile,
                                   std::uint64_t open_now, int threads) noexcept {
  std::uint64_t reserve = std::max<std::uint64_t>(64, nofile / 4);
  std::uint64_t usable = nofile > reserve + open_now ? nofile - reserve - open_now : 0;
  DescriptorBudget b;
  std::uint64_t cap = std::max<std::uint64_t>(8, usable);
  if (configured > 0) cap = std::min<std::uint64_t>(cap, configured);
  b.max_connections = static_cast<std::size_t>(cap);
  // Refusals and cached files share the reserve: a quarter each, within sane bounds.
  b.max_refusing = static_cast<std::size_t>(std::clamp<std::uint64_t>(reserve / 4, 4, 256));
  std::uint64_t per_loop = reserve / 4 / static_cast<std::uint64_t>(std::max(1, threads));
  b.file_cache = static_cast<std::size_t>(std::clamp<std::uint64_t>(per_loop, 4, 256));
  return b;
}

std::uint64_t open_descriptors() noexcept {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  std::uint64_t n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n > 0 ? n - 1 : 0;  // without the directory's own descriptor
}

std::uint64_t descriptor_limit() noexcept {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1u << 20;
  return static_cast<std::uint64_t>(rl.rlim_cur);
}

}  // namespace dfd::host
