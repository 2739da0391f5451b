// info-core: the address a login is throttled and audited under.
//
// The TCP peer, unless the peer is one of the configured trusted proxies (`trusted_proxies`,
// CIDR blocks such as "127.0.0.1/32" or "10.0.0.0/8" or "::1/128"; default none): then the
// X-Forwarded-For header is read from its right end, skipping addresses that are themselves
// trusted proxies, and the first other address is the client. A header from an untrusted peer
// is ignored (anyone can send one), and so is a malformed entry (the peer is used).
// Addresses are returned in canonical form (inet_ntop), so spellings cannot split a counter.
//
// Thread-safety: immutable after parse(); resolve() may be called concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/status.hpp"

namespace dfd::info {

class ClientAddress {
 public:
  // Parses CIDR blocks ("a.b.c.d/n", "x::y/n"; a bare address means one host).
  static Result<ClientAddress> parse(const std::vector<std::string>& trusted_proxies);

  // The client's address for a request from `peer` carrying `forwarded_for` (may be empty).
  std::string resolve(const std::string& peer, std::string_view forwarded_for) const;

  bool trusts_any() const { return !blocks_.empty(); }

 private:
  struct Ip {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
  };
  struct Block {
    Ip base;
    int prefix = 0;  // in IPv6 bits (an IPv4 /n is 96 + n)
  };
  static std::optional<Ip> parse_ip(std::string_view s);
  static std::string format(const Ip& ip);
  bool trusted(const Ip& ip) const;

  std::vector<Block> blocks_;
};

}  // namespace dfd::info
