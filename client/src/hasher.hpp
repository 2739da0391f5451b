// Streaming digests over OpenSSL EVP for the manifest's algorithms. One Hasher per thread at a
// time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace dfd::client {

class Hasher {
 public:
  // Throws CliError (usage) for an algorithm other than sha256, sha512, sha3-256, blake2b-512.
  explicit Hasher(std::string_view alg);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  static bool supported(std::string_view alg);
  // Hex digits of one digest of `alg` (64 for sha256), 0 when unsupported. Pure.
  static std::size_t hex_length(std::string_view alg);
  void reset();  // start a new digest
  void update(const void* data, std::size_t n);
  std::string final_hex();  // lower-case hex; the hasher must be reset() before reuse

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dfd::client
