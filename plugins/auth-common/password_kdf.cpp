#include "password_kdf.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth_rules.hpp"
#include "dfd/events.hpp"

namespace dfd::auth_common {
namespace {

bool from_hex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  out->reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

Result<std::string> random_salt(const std::string& who) {
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    return Status::Internal(who + ": RAND_bytes failed");
  }
  return salt;
}

}  // namespace

Result<PasswordKdf> PasswordKdf::make(std::string who, std::int64_t iterations) {
  auto salt = random_salt(who);
  if (!salt.ok()) return salt.status();
  return PasswordKdf(std::move(who), iterations, std::move(salt.value()));
}

Status PasswordKdf::derive(std::string_view password, const std::string& salt,
                           std::int64_t iterations, unsigned char out[kKeyBytes]) const {
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(kKeyBytes), out) != 1) {
    return Status::Internal(who_ + ": PBKDF2 failed");
  }
  return Status::Ok();
}

Result<StoredPassword> PasswordKdf::hash(std::string_view password) const {
  auto salt = random_salt(who_);
  if (!salt.ok()) return salt.status();
  unsigned char key[kKeyBytes];
  DFD_RETURN_IF_ERROR(derive(password, *salt, iterations_, key));
  StoredPassword p{to_hex(salt->data(), salt->size()), iterations_, to_hex(key, sizeof key)};
  OPENSSL_cleanse(key, sizeof key);
  return p;
}

Status PasswordKdf::check(std::string_view password, const StoredPassword* stored,
                          bool* malformed) const {
  *malformed = false;
  std::string salt = dummy_salt_;
  std::int64_t iterations = iterations_;
  std::string key_bytes;
  bool found = false;
  if (stored) {
    std::string salt_bytes;
    if (from_hex(stored->salt_hex, &salt_bytes) && from_hex(stored->hash_hex, &key_bytes) &&
        key_bytes.size() == kKeyBytes && stored->iterations >= 1 &&
        stored->iterations <= kMaxKdfIterations) {
      found = true;
      salt = std::move(salt_bytes);
      iterations = stored->iterations;
    } else {
      *malformed = true;
    }
  }
  unsigned char key[kKeyBytes];
  DFD_RETURN_IF_ERROR(derive(password, salt, iterations, key));
  bool match = found && CRYPTO_memcmp(key, key_bytes.data(), kKeyBytes) == 0;
  OPENSSL_cleanse(key, sizeof key);
  if (!match) return Status::Unauthenticated(kLoginError);
  return Status::Ok();
}

}  // namespace dfd::auth_common
