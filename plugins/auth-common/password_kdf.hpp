// dfd_auth_common — stored passwords: PBKDF2-HMAC-SHA256, a 16-byte random salt per user, a
// 32-byte key, the iteration count stored per user; salt and key as lower-case hex. The format
// auth-sqlite and auth-postgres both store (docs/auth.md "KDF").
//
// check() runs the KDF exactly once whatever it is given (an unknown user runs it on a random
// per-process dummy salt with the configured iterations), so login time does not reveal whether
// an e-mail exists; keys are compared with CRYPTO_memcmp and wiped. Call it outside every lock.
// Thread-safety: const methods, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dfd/status.hpp"

namespace dfd::auth_common {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;  // PBKDF2 output length (SHA-256 size)
constexpr std::int64_t kMaxKdfIterations = 100000000;

struct StoredPassword {
  std::string salt_hex;
  std::int64_t iterations = 0;
  std::string hash_hex;
};

class PasswordKdf {
 public:
  // `who` prefixes errors ("auth-sqlite"); `iterations` is used for new passwords and for the
  // dummy run of an unknown user.
  static Result<PasswordKdf> make(std::string who, std::int64_t iterations);

  // A new salt and the key of `password`.
  Result<StoredPassword> hash(std::string_view password) const;

  // Ok when `stored` (nullptr: no such user) holds the key of `password`; otherwise
  // kUnauthenticated("invalid e-mail or password"). *malformed is set when `stored` could not be
  // decoded (bad hex, key length, iterations outside 1..1e8): then it counts as no user.
  Status check(std::string_view password, const StoredPassword* stored, bool* malformed) const;

  std::int64_t iterations() const { return iterations_; }

 private:
  PasswordKdf(std::string who, std::int64_t iterations, std::string dummy_salt)
      : who_(std::move(who)), iterations_(iterations), dummy_salt_(std::move(dummy_salt)) {}
  Status derive(std::string_view password, const std::string& salt, std::int64_t iterations,
                unsigned char out[kKeyBytes]) const;

  std::string who_;
  std::int64_t iterations_;
  std::string dummy_salt_;
};

}  // namespace dfd::auth_common
