#include "hasher.hpp"

#include <openssl/evp.h>

#include "util.hpp"

namespace dfd::client {

namespace {
const EVP_MD* md_for(std::string_view alg) {
  std::string a = lower(alg);
  if (a == "sha256" || a == "sha-256") return EVP_sha256();
  if (a == "sha512" || a == "sha-512") return EVP_sha512();
  if (a == "sha3-256") return EVP_sha3_256();
  if (a == "blake2b-512" || a == "blake2b512") return EVP_blake2b512();
  return nullptr;
}
}  // namespace

struct Hasher::Impl {
  const EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
};

bool Hasher::supported(std::string_view alg) {
  return md_for(alg) != nullptr;
}

std::size_t Hasher::hex_length(std::string_view alg) {
  const EVP_MD* md = md_for(alg);
  return md ? 2 * static_cast<std::size_t>(EVP_MD_get_size(md)) : 0;
}

Hasher::Hasher(std::string_view alg) : impl_(std::make_unique<Impl>()) {
  impl_->md = md_for(alg);
  if (!impl_->md)
    throw CliError(exit_code::kFailure, "unsupported digest algorithm '" + std::string(alg) + "'");
  impl_->ctx = EVP_MD_CTX_new();
  if (!impl_->ctx) throw std::bad_alloc();
  reset();
}

Hasher::~Hasher() {
  EVP_MD_CTX_free(impl_->ctx);
}

void Hasher::reset() {
  EVP_DigestInit_ex(impl_->ctx, impl_->md, nullptr);
}

void Hasher::update(const void* data, std::size_t n) {
  EVP_DigestUpdate(impl_->ctx, data, n);
}

std::string Hasher::final_hex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out, &len);
  return to_hex(out, len);
}

}  // namespace dfd::client
