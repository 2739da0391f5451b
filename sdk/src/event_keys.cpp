// Ed25519 keys for signed events (OpenSSL 3): loading, signing, verifying, generating.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dfd/event_signing.hpp"
#include "dfd/events.hpp"
#include "dfd/private_file.hpp"
#include "signing_input.hpp"

namespace dfd::events {
namespace {
namespace fs = std::filesystem;

constexpr std::size_t kMaxKeyFileBytes = 16 << 10;

std::shared_ptr<void> own(EVP_PKEY* k) {
  return std::shared_ptr<void>(k, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
}
EVP_PKEY* raw(const std::shared_ptr<void>& k) {
  return static_cast<EVP_PKEY*>(k.get());
}

std::unique_ptr<BIO, decltype(&BIO_free)> mem_bio(std::string_view text) {
  return {BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free};
}

Result<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read '" + path + "': " + std::strerror(errno));
  std::string text(kMaxKeyFileBytes + 1, '\0');
  in.read(&text[0], static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxKeyFileBytes) {
    return Status::InvalidArgument("'" + path + "' is larger than a key file");
  }
  return text;
}

// key id = first 8 bytes of SHA-256(raw public key), hex.
Result<std::string> key_id_of(EVP_PKEY* k) {
  unsigned char pub[32];
  std::size_t n = sizeof(pub);
  if (EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != sizeof(pub)) {
    return Status::InvalidArgument("not an Ed25519 key");
  }
  std::string h = sha256_hex(std::string_view(reinterpret_cast<const char*>(pub), n));
  return h.substr(0, signing::kKeyIdHex);
}

bool is_ed25519(EVP_PKEY* k) {
  return k && EVP_PKEY_is_a(k, "ED25519") == 1;
}

struct ParsedKey {
  std::shared_ptr<void> pkey;  // EVP_PKEY
  std::string key_id;
};
// A PEM Ed25519 key: PKCS#8 private (`private_key`) or SubjectPublicKeyInfo public.
Result<ParsedKey> parse_pem_key(std::string_view pem, bool private_key) {
  auto b = mem_bio(pem);
  EVP_PKEY* k = !b            ? nullptr
                : private_key ? PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr)
                              : PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr);
  ParsedKey p{own(k), {}};
  if (!is_ed25519(k)) {
    return Status::InvalidArgument(private_key ? "not a PEM Ed25519 private key"
                                               : "not a PEM Ed25519 public key");
  }
  auto id = key_id_of(k);
  if (!id.ok()) return id.status();
  p.key_id = *id;
  return p;
}

std::string pem_of(EVP_PKEY* k, bool private_key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), &BIO_free);
  if (!b) return {};
  int ok = private_key ? PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_PUBKEY(b.get(), k);
  if (ok != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

bool from_hex(std::string_view hex, unsigned char* out) {
  auto v = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = v(hex[i]), lo = v(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  auto k = parse_pem_key(pem, false);
  if (!k.ok()) return k.status();
  PublicKey p;
  p.pkey_ = std::move(k->pkey);
  p.key_id_ = std::move(k->key_id);
  return p;
}

Result<PublicKey> PublicKey::load(const std::string& path) {
  auto text = read_small_file(path);
  if (!text.ok()) return text.status();
  auto k = from_pem(*text);
  if (!k.ok()) return Status::InvalidArgument("'" + path + "': " + k.status().message());
  return k;
}

bool PublicKey::verify(std::string_view message, std::string_view signature) const noexcept {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, raw(pkey_)) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Result<Signer> Signer::from_pem(std::string_view pem, std::string sender) {
  if (!valid_sender_name(sender)) {
    return Status::InvalidArgument("'" + sender + "' cannot be a sender name");
  }
  auto k = parse_pem_key(pem, true);
  if (!k.ok()) return k.status();
  Signer s;
  s.pkey_ = std::move(k->pkey);
  s.sender_ = std::move(sender);
  s.key_id_ = std::move(k->key_id);
  return s;
}

Result<Signer> Signer::load(const std::string& path, std::string sender) {
  auto text = read_private_file(path);
  if (!text.ok()) return text.status();
  auto s = from_pem(*text, std::move(sender));
  // The PEM text held the private key: wipe our copy.
  OPENSSL_cleanse(&(*text)[0], text->size());
  if (!s.ok()) return Status::InvalidArgument("'" + path + "': " + s.status().message());
  return s;
}

std::string Signer::public_pem() const {
  return pem_of(raw(pkey_), false);
}

Result<std::string> Signer::seal(std::string_view routing_key, std::string_view body,
                                 std::int64_t ts) const {
  unsigned char id[16];
  if (RAND_bytes(id, sizeof(id)) != 1) return Status::Internal("CSPRNG failure");
  return seal_with_id(routing_key, body, ts, to_hex(id, sizeof(id)));
}

Result<std::string> Signer::seal_with_id(std::string_view routing_key, std::string_view body,
                                         std::int64_t ts, std::string_view event_id) const {
  std::string input = signing::signing_input(routing_key, sender_, key_id_, ts, event_id, body);
  unsigned char sig[64];
  std::size_t n = sizeof(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, raw(pkey_)) == 1 &&
            EVP_DigestSign(ctx, sig, &n, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || n != sizeof(sig)) return Status::Internal("Ed25519 signing failed");
  std::string out;
  out.reserve(signing::kMaxHeaderBytes + body.size());
  out.append(signing::kMagic).append(" ").append(sender_).append(" ").append(key_id_);
  out.append(" ").append(std::to_string(ts)).append(" ").append(event_id).append(" ");
  out.append(to_hex(sig, n)).append("\n").append(body);
  return out;
}

Result<KeyPairPem> generate_key_pair() {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  auto owned = own(k);
  if (!k) return Status::Internal("Ed25519 key generation failed");
  KeyPairPem p;
  p.private_pem = pem_of(k, true);
  p.public_pem = pem_of(k, false);
  auto id = key_id_of(k);
  if (p.private_pem.empty() || p.public_pem.empty() || !id.ok()) {
    return Status::Internal("cannot encode the key pair");
  }
  p.key_id = *id;
  return p;
}

Result<std::shared_ptr<const TrustedKeys>> TrustedKeys::load_dir(const std::string& dir) {
  auto keys = std::make_shared<TrustedKeys>();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound("'" + dir + "' is not a directory");
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".pub") continue;
    std::string stem = p.stem().string();
    std::string sender = stem.substr(0, stem.find('@'));
    if (!valid_sender_name(sender)) {
      return Status::InvalidArgument("'" + p.string() +
                                     "': the file name is not <sender>.pub with a sender name "
                                     "of letters, digits, '-', '_', '.'");
    }
    auto k = PublicKey::load(p.string());
    if (!k.ok()) return k.status();
    std::string id = k->key_id();
    if (!keys->keys_.emplace(sender + ' ' + id, std::move(*k)).second) {
      return Status::AlreadyExists("'" + p.string() + "': key " + id + " of '" + sender +
                                   "' is listed twice");
    }
  }
  if (ec) return Status::IoError("cannot list '" + dir + "': " + ec.message());
  return std::shared_ptr<const TrustedKeys>(std::move(keys));
}

Result<std::shared_ptr<const TrustedKeys>> TrustedKeys::from_pems(
    const std::multimap<std::string, std::string>& pems) {
  auto keys = std::make_shared<TrustedKeys>();
  for (const auto& [sender, pem] : pems) {
    auto k = PublicKey::from_pem(pem);
    if (!k.ok()) return k.status();
    std::string id = k->key_id();
    keys->keys_.emplace(sender + ' ' + id, std::move(*k));
  }
  return std::shared_ptr<const TrustedKeys>(std::move(keys));
}

const PublicKey* TrustedKeys::find(std::string_view sender, std::string_view key_id) const {
  std::string k;
  k.reserve(sender.size() + 1 + key_id.size());
  k.append(sender).append(" ").append(key_id);
  auto it = keys_.find(k);
  return it == keys_.end() ? nullptr : &it->second;
}

namespace signing {
bool signature_from_hex(std::string_view hex, unsigned char (&out)[64]) {
  return hex.size() == kSignatureHex && from_hex(hex, out);
}
}  // namespace signing

}  // namespace dfd::events
