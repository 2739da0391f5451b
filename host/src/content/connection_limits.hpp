// What clients may hold at once on the data plane (issue 11, "Limits every server needs").
//
// AddressQuota counts holdings per client address and in total against two caps; the data plane
// keeps one for open connections ([content] max_connections, max_connections_per_address) and
// one for parked requests (max_parked, max_parked_per_address); the control plane's
// ConnectionLimiter counts its connections with one too. What happens over a cap is the
// event loop's business (evict an idle connection, or refuse with 503).
//
// descriptor_budget() turns the process's descriptor limit (RLIMIT_NOFILE) into the connection
// cap actually used, so that the data plane alone can never exhaust the process's descriptors:
// a reserve stays for files, databases, the broker, the control plane and refusals.
//
// Thread-safety: AddressQuota's methods may be called from any thread (one mutex inside);
// the free functions are pure.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dfd::host {

// A client's IP address as a compact map key (4 or 16 raw bytes; an IPv4-mapped IPv6 address is
// folded to its IPv4 form), "" for other families.
std::string address_key(const sockaddr_storage& addr) noexcept;

class AddressQuota {
 public:
  AddressQuota(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  enum class Verdict { kAdmitted, kOverAddress, kOverTotal };
  // Takes one unit for `address` when both caps allow it; otherwise takes nothing.
  Verdict acquire(const std::string& address) noexcept;
  // Gives back one unit taken by acquire().
  void release(const std::string& address) noexcept;

  std::size_t total() const noexcept;
  std::size_t held_by(const std::string& address) const noexcept;
  std::size_t max_total() const noexcept { return max_total_; }
  std::size_t max_per_address() const noexcept { return max_per_address_; }

 private:
  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mu_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> by_address_;
};

struct DescriptorBudget {
  std::size_t max_connections = 0;  // admitted connections, all loops together
  std::size_t max_refusing = 0;     // connections being answered 503 at the same time
  std::size_t file_cache = 0;       // open files cached per event loop
};

// `configured` = [content] max_connections (0 = as many as the descriptor limit allows);
// `nofile` = the soft RLIMIT_NOFILE; `open_now` = descriptors already open (plugins, databases,
// inherited ones). Besides those, a quarter of the limit (at least 64) is kept in reserve for
// what opens later (files served, refusals, the control plane); the cap is never below 8.
DescriptorBudget descriptor_budget(std::size_t configured, std::uint64_t nofile,
                                   std::uint64_t open_now, int threads) noexcept;

// The soft RLIMIT_NOFILE of this process.
std::uint64_t descriptor_limit() noexcept;
// How many descriptors this process has open (/proc/self/fd), 0 when unknown.
std::uint64_t open_descriptors() noexcept;

}  // namespace dfd::host
