#include "request_id.hpp"

#include <random>

namespace dfd::host {

namespace {

bool id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

bool valid_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (!id_char(c)) return false;
  }
  return true;
}

void RequestId::assign(std::string_view id) noexcept {
  len_ = id.size() < kMaxRequestIdLength ? id.size() : kMaxRequestIdLength;
  for (std::size_t i = 0; i < len_; ++i) chars_[i] = id[i];
}

RequestIdGenerator::RequestIdGenerator() {
  std::random_device rd;
  state_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

void RequestIdGenerator::assign(RequestId& out, std::string_view given) noexcept {
  if (valid_request_id(given)) {
    out.assign(given);
    return;
  }
  // splitmix64
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  static const char kHex[] = "0123456789abcdef";
  char buf[kGeneratedRequestIdLength];
  for (std::size_t i = 0; i < kGeneratedRequestIdLength; ++i) {
    buf[kGeneratedRequestIdLength - 1 - i] = kHex[z & 0xf];
    z >>= 4;
  }
  out.assign(std::string_view(buf, kGeneratedRequestIdLength));
}

std::string RequestIdGenerator::next() {
  RequestId id;
  assign(id, {});
  return std::string(id.view());
}

}  // namespace dfd::host
