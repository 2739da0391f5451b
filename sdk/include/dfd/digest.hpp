// dfd SDK — digest plugins: named hash algorithms with streaming (init/update/final).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/plugin.hpp"

namespace dfd {

// One running hash computation. Not thread-safe: one thread at a time. Must not outlive the
// Digest plugin that made it.
class Hasher {
 public:
  virtual ~Hasher() = default;
  virtual void update(const void* data, std::size_t len) noexcept = 0;
  // Finishes and returns the digest as lower-case hex; the hasher is then reset for reuse.
  virtual std::string final_hex() noexcept = 0;
  // Starts over (discarding input so far).
  virtual void reset() noexcept = 0;
  virtual std::size_t digest_size() const noexcept = 0;  // bytes
};

class Digest : public Plugin {
 public:
  static constexpr PluginKind kKind = PluginKind::kDigest;

  // Algorithms offered, canonical names: "sha256", "sha512", "sha3-256", "blake2b-512".
  virtual std::vector<std::string> algorithms() const noexcept = 0;
  // A new hasher for `algorithm`; kNotFound for an unknown name. Thread-safe.
  virtual Result<std::unique_ptr<Hasher>> new_hasher(std::string_view algorithm) noexcept = 0;
};

}  // namespace dfd
