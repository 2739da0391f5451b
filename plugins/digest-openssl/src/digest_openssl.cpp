// digest-openssl: named hash algorithms over OpenSSL EVP (libcrypto 3).
//
// Thread-safety: the plugin object is immutable after create(); new_hasher() may be called from any
// thread. Each Hasher owns its EVP_MD_CTX and is used by one thread at a time (see digest.hpp).
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/digest.hpp"

namespace dfd::digest_openssl {
namespace {

struct Algorithm {
  const char* name;
  const EVP_MD* (*md)();
};

// The first entry is the default (used for an empty algorithm name).
const std::array<Algorithm, 4> kAlgorithms{{
    {"sha256", &EVP_sha256},
    {"sha512", &EVP_sha512},
    {"sha3-256", &EVP_sha3_256},
    {"blake2b-512", &EVP_blake2b512},
}};

std::string lower(std::string_view s) {
  std::string o(s);
  std::transform(o.begin(), o.end(), o.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return o;
}

struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

class EvpHasher final : public Hasher {
 public:
  EvpHasher(const EVP_MD* md, std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx)
      : md_(md), ctx_(std::move(ctx)) {
    reset();
  }

  void update(const void* data, std::size_t len) noexcept override {
    if (ok_ && len > 0) ok_ = EVP_DigestUpdate(ctx_.get(), data, len) == 1;
  }

  std::string final_hex() noexcept override {
    std::string out;
    try {
      unsigned char buf[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      if (ok_ && EVP_DigestFinal_ex(ctx_.get(), buf, &n) == 1) {
        static const char* kHex = "0123456789abcdef";
        out.reserve(2 * n);
        for (unsigned int i = 0; i < n; ++i) {
          out.push_back(kHex[buf[i] >> 4]);
          out.push_back(kHex[buf[i] & 0xf]);
        }
      }
    } catch (...) {
      out.clear();  // out of memory: an empty digest never matches anything
    }
    reset();
    return out;
  }

  void reset() noexcept override { ok_ = EVP_DigestInit_ex(ctx_.get(), md_, nullptr) == 1; }

  std::size_t digest_size() const noexcept override {
    return static_cast<std::size_t>(EVP_MD_get_size(md_));
  }

 private:
  const EVP_MD* md_;
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx_;
  bool ok_ = false;  // false after an OpenSSL failure: final_hex() then returns ""
};

class OpenSslDigest final : public Digest {
 public:
  explicit OpenSslDigest(HostServices& host) : host_(host) {}

  Status init() { return host_.config().allow_only({}); }

  Status start() noexcept override {
    host_.logger().debug("algorithms: sha256 (default), sha512, sha3-256, blake2b-512");
    return Status::Ok();
  }

  Health health() const noexcept override {
    return {true, "sha256, sha512, sha3-256, blake2b-512"};
  }

  std::vector<std::string> algorithms() const noexcept override {
    std::vector<std::string> v;
    try {
      for (const auto& a : kAlgorithms) v.emplace_back(a.name);
    } catch (...) {
    }
    return v;
  }

  Result<std::unique_ptr<Hasher>> new_hasher(std::string_view algorithm) noexcept override {
    return guard("digest-openssl: new_hasher", [&]() -> Result<std::unique_ptr<Hasher>> {
      std::string want = algorithm.empty() ? std::string(kAlgorithms[0].name) : lower(algorithm);
      for (const auto& a : kAlgorithms) {
        if (want != a.name) continue;
        const EVP_MD* md = a.md();
        std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
        if (!md || !ctx) {
          return Status::Unavailable("digest-openssl: OpenSSL cannot provide " + want);
        }
        return std::unique_ptr<Hasher>(std::make_unique<EvpHasher>(md, std::move(ctx)));
      }
      return Status::NotFound("digest-openssl: unknown algorithm '" + std::string(algorithm) +
                              "' (have sha256, sha512, sha3-256, blake2b-512)");
    });
  }

 private:
  HostServices& host_;
};

}  // namespace
}  // namespace dfd::digest_openssl

DFD_PLUGIN(::dfd::PluginKind::kDigest, "digest-openssl", "1.0.0",
           "sha256, sha512, sha3-256, blake2b-512 via OpenSSL EVP", nullptr, 0,
           &::dfd::create_plugin<::dfd::digest_openssl::OpenSslDigest>,
           &::dfd::destroy_plugin<::dfd::digest_openssl::OpenSslDigest>)
