#include "client_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace dfd::info {

namespace {
constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_mapped(const std::array<std::uint8_t, 16>& b) {
  return std::memcmp(b.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0;
}
}  // namespace

std::optional<ClientAddress::Ip> ClientAddress::parse_ip(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  std::string text(s);
  Ip ip;
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    std::memcpy(ip.bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(ip.bytes.data() + 12, &v4, 4);
    return ip;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::memcpy(ip.bytes.data(), &v6, 16);
    return ip;
  }
  return std::nullopt;
}

std::string ClientAddress::format(const Ip& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_mapped(ip.bytes)) {
    inet_ntop(AF_INET, ip.bytes.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof buf);
  }
  return buf;
}

Result<ClientAddress> ClientAddress::parse(const std::vector<std::string>& trusted_proxies) {
  ClientAddress out;
  for (const std::string& entry : trusted_proxies) {
    std::string_view s = trim(entry);
    std::string_view addr = s;
    int prefix = -1;
    if (auto slash = s.find('/'); slash != std::string_view::npos) {
      addr = s.substr(0, slash);
      std::string_view bits = s.substr(slash + 1);
      if (bits.empty() || bits.size() > 3) {
        return Status::InvalidArgument("'" + entry + "' has a bad prefix length");
      }
      prefix = 0;
      for (char c : bits) {
        if (c < '0' || c > '9') {
          return Status::InvalidArgument("'" + entry + "' has a bad prefix length");
        }
        prefix = prefix * 10 + (c - '0');
      }
    }
    auto ip = parse_ip(addr);
    if (!ip) return Status::InvalidArgument("'" + entry + "' is not an IP address or CIDR block");
    const bool v4 = is_mapped(ip->bytes) && addr.find(':') == std::string_view::npos;
    const int max = v4 ? 32 : 128;
    if (prefix < 0) prefix = max;
    if (prefix > max) {
      return Status::InvalidArgument("'" + entry + "': the prefix is longer than " +
                                     std::to_string(max) + " bits");
    }
    out.blocks_.push_back(Block{*ip, v4 ? 96 + prefix : prefix});
  }
  return out;
}

bool ClientAddress::trusted(const Ip& ip) const {
  for (const Block& b : blocks_) {
    int whole = b.prefix / 8, rest = b.prefix % 8;
    if (std::memcmp(ip.bytes.data(), b.base.bytes.data(), static_cast<std::size_t>(whole)) != 0) {
      continue;
    }
    if (rest != 0) {
      auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
      if ((ip.bytes[whole] & mask) != (b.base.bytes[whole] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::string ClientAddress::resolve(const std::string& peer, std::string_view forwarded_for) const {
  auto p = parse_ip(peer);
  if (!p) return peer;
  const std::string self = format(*p);
  if (forwarded_for.empty() || !trusted(*p)) return self;
  std::string client = self;
  // Right to left: each hop appended the address it saw.
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    std::string_view hop =
        trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for =
        comma == std::string_view::npos ? std::string_view() : forwarded_for.substr(0, comma);
    auto ip = parse_ip(hop);
    if (!ip) return client;  // malformed: stop at the last address we could trust
    client = format(*ip);
    if (!trusted(*ip)) return client;
  }
  return client;
}

}  // namespace dfd::info
