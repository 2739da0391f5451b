// auth-hmac: stateless download tokens signed with HMAC-SHA256 under a key read from a file.
//
// Token = base64url(payload) "." base64url(HMAC-SHA256(key, payload)), no padding, where
// payload = version (1 byte, 1) | expiry (unix s, 8 bytes big-endian) | user id (8 bytes
// big-endian, two's complement) | nonce (16 random bytes) | scope (the file uid, the rest).
// Verifying needs only the key: no store, no broker event. See docs/auth.md.
//
// Thread-safety: every public method may be called from any thread. The key is immutable after
// init(); the revocation set is guarded by a mutex.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "dfd/auth.hpp"
#include "dfd/creatable_file.hpp"
#include "dfd/events.hpp"
#include "dfd/plugin.hpp"
#include "dfd/private_file.hpp"
#include "issued_ledger.hpp"

namespace dfd::auth_hmac {
namespace {

constexpr std::chrono::seconds kMaxTtl{10LL * 366 * 86400};

constexpr unsigned char kVersion = 1;
constexpr std::size_t kNonceBytes = 16;
constexpr std::size_t kHeaderBytes = 1 + 8 + 8 + kNonceBytes;
constexpr std::size_t kMacBytes = 32;
constexpr std::size_t kMinKeyBytes = 32;
constexpr std::size_t kMaxScopeBytes = 1024;
// Longest token we parse: a max-size payload and the MAC, base64url-encoded, plus the dot.
constexpr std::size_t kMaxTokenChars = ((kHeaderBytes + kMaxScopeBytes) * 4 + 2) / 3 + 1 + 43;
constexpr std::int64_t kMinRevocationKeepS = 86400;
// Download tokens remembered per user for revoke_download_tokens_of() (issued_ledger.hpp).
constexpr std::size_t kLedgerPerUser = 65536;

const char kB64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url_encode(const unsigned char* p, std::size_t n) {
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64Alphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kB64Alphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict, canonical base64url without padding: unknown characters, an impossible length
// (n % 4 == 1) and non-zero unused trailing bits are all refused, so each byte string has exactly
// one accepted encoding (flipping a character can never yield the same bytes).
bool b64url_decode(std::string_view s, std::string* out) {
  if (s.size() % 4 == 1) return false;
  out->clear();
  out->reserve(s.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = b64url_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;
}

void put_u64(std::string* s, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_u64(const std::string& s, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

TimePoint from_unix(std::int64_t s) {
  return TimePoint(std::chrono::seconds(s));
}

std::string errno_text(int e) {
  return std::error_code(e, std::generic_category()).message();
}

// Writes 32 fresh random bytes to `path` with mode 0600 (never replaces an existing file).
Status create_key_file(const std::string& path) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec)
      return Status::IoError("cannot create '" + p.parent_path().string() + "': " + ec.message());
  }
  unsigned char key[kMinKeyBytes];
  if (RAND_bytes(key, sizeof key) != 1) return Status::Internal("RAND_bytes failed");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    OPENSSL_cleanse(key, sizeof key);
    return Status::IoError("cannot create '" + path + "': " + errno_text(errno));
  }
  std::size_t done = 0;
  int err = 0;
  while (done < sizeof key) {
    ssize_t n = ::write(fd, key + done, sizeof key - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  OPENSSL_cleanse(key, sizeof key);
  if (err == 0 && ::fchmod(fd, 0600) != 0) err = errno;  // whatever the umask said
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) {
    ::unlink(path.c_str());
    return Status::IoError("cannot write '" + path + "': " + errno_text(err));
  }
  return Status::Ok();
}

// Reads the key: a private file (dfd/private_file.hpp: regular, ours, mode 0600) of >= 32 bytes.
// On failure returns the reason (without the key's content).
Status read_key_file(const std::string& path, std::string* key) {
  auto bytes = read_private_file(path);
  if (!bytes.ok()) return bytes.status();
  std::string buf = std::move(bytes).value();
  if (buf.size() < kMinKeyBytes) {
    OPENSSL_cleanse(buf.data(), buf.size());
    return Status::InvalidArgument(
        "'" + path + "' holds " + std::to_string(buf.size()) +
        " bytes; a key needs at least 32 (e.g. head -c 32 /dev/urandom)");
  }
  *key = std::move(buf);
  return Status::Ok();
}

class HmacAuth final : public Auth {
 public:
  explicit HmacAuth(HostServices& host) : host_(host) {}
  ~HmacAuth() override {
    if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
  }

  Status init() {
    const Config& cfg = host_.config();
    DFD_RETURN_IF_ERROR(cfg.allow_only({"key_file", "create_key", "token_ttl_s"}));
    if (!cfg.has("key_file")) {
      return cfg.error("key_file", "required (path of a file holding >= 32 secret bytes)");
    }
    auto path = cfg.get_string("key_file");
    if (!path.ok()) return path.status();
    if (path->empty()) return cfg.error("key_file", "must not be empty");
    auto create = cfg.bool_or("create_key", false);
    if (!create.ok()) return create.status();
    auto ttl = cfg.int_or("token_ttl_s", 3600);
    if (!ttl.ok()) return ttl.status();
    if (*ttl <= 0 || *ttl > kMaxTtl.count()) {
      return cfg.error("token_ttl_s", "must be between 1 and " + std::to_string(kMaxTtl.count()));
    }
    token_ttl_ = std::chrono::seconds(*ttl);

    struct stat st {};
    if (::lstat(path->c_str(), &st) != 0 && errno == ENOENT) {
      if (!*create) {
        return cfg.error("key_file",
                         "'" + *path +
                             "' does not exist (set create_key = true to generate "
                             "one, or: head -c 32 /dev/urandom > FILE; chmod 600 FILE)");
      }
      // Made by start(), not here: dfd-host --check runs create() and must leave no file behind.
      Status c = check_creatable_file(*path);
      if (!c.ok()) return cfg.error("key_file", c.message());
    } else {
      Status r = read_key_file(*path, &key_);
      if (!r.ok()) return cfg.error("key_file", r.message());
    }

    Metrics& m = host_.metrics();
    issued_ = &m.counter("dfd_auth_tokens_issued_total", "Download tokens issued by this server");
    for (int v = 0; v <= static_cast<int>(TokenVerdict::kRevoked); ++v) {
      verdicts_[v] = &m.counter("dfd_auth_verify_total", "Download token checks by verdict",
                                {{"verdict", verdict_name(static_cast<TokenVerdict>(v))}});
    }
    key_path_ = *path;
    return Status::Ok();
  }

  // Generates the key file that init() found missing (create_key = true), then reads it.
  Status start() noexcept override {
    return guard("auth-hmac: start", [&]() -> Status {
      if (!key_.empty()) return Status::Ok();
      const Config& cfg = host_.config();
      struct stat st {};
      if (::lstat(key_path_.c_str(), &st) != 0 && errno == ENOENT) {
        Status c = create_key_file(key_path_);
        if (!c.ok()) return cfg.error("key_file", c.message());
        host_.logger().info("generated a new 32-byte key in '" + key_path_ + "' (mode 0600)");
      }
      Status r = read_key_file(key_path_, &key_);
      if (!r.ok()) return cfg.error("key_file", r.message());
      return Status::Ok();
    });
  }

  Health health() const noexcept override {
    Health h;
    h.detail = "stateless HMAC-SHA256 tokens";
    return h;
  }

  Result<IssuedToken> issue_download_token(std::string_view scope, std::int64_t user_id,
                                           std::chrono::seconds ttl,
                                           DownloadTokenRecord* record) noexcept override {
    return guard("auth-hmac: issue_download_token", [&]() -> Result<IssuedToken> {
      if (scope.empty()) return Status::InvalidArgument("auth-hmac: empty token scope");
      if (scope.size() > kMaxScopeBytes) {
        return Status::InvalidArgument("auth-hmac: token scope longer than 1024 bytes");
      }
      if (ttl.count() <= 0) ttl = token_ttl_;
      if (ttl > kMaxTtl)
        return Status::InvalidArgument("auth-hmac: token ttl longer than 10 years");
      auto t = host_.clock().now() + ttl;
      std::int64_t expires = std::chrono::ceil<std::chrono::seconds>(t.time_since_epoch()).count();

      std::string payload;
      payload.reserve(kHeaderBytes + scope.size());
      payload.push_back(static_cast<char>(kVersion));
      put_u64(&payload, static_cast<std::uint64_t>(expires));
      put_u64(&payload, static_cast<std::uint64_t>(user_id));
      unsigned char nonce[kNonceBytes];
      if (RAND_bytes(nonce, sizeof nonce) != 1) {
        return Status::Internal("auth-hmac: RAND_bytes failed");
      }
      payload.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
      payload.append(scope);
      unsigned char mac[kMacBytes];
      DFD_RETURN_IF_ERROR(sign(payload, mac));
      std::string token =
          b64url_encode(reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
      token += '.';
      token += b64url_encode(mac, sizeof mac);
      issued_->add();
      std::string hash = sha256_hex(token);
      ledger_.add(user_id, hash, from_unix(expires), host_.clock().now());
      if (record) {
        record->token_hash = std::move(hash);
        record->scope = std::string(scope);
        record->user_id = user_id;
        record->expires_at = from_unix(expires);
      }
      return IssuedToken{std::move(token), from_unix(expires)};
    });
  }

  TokenVerdict verify_download_token(std::string_view token,
                                     std::string_view scope) noexcept override {
    TokenVerdict v = TokenVerdict::kInvalid;
    Status st = guard("auth-hmac: verify_download_token", [&]() -> Status {
      v = verify(token, scope);
      return Status::Ok();
    });
    if (!st.ok()) {
      host_.logger().error(st.message());
      v = TokenVerdict::kInvalid;
    }
    verdicts_[static_cast<int>(v)]->add();
    return v;
  }

  // Self-verifying tokens need no record.
  Status remember_download_token(const DownloadTokenRecord&) noexcept override {
    return Status::Ok();
  }

  // Held in memory until the revoked token has surely expired (see docs/auth.md): at least
  // max(token_ttl_s, 1 day); extended to the token's own expiry when it is presented.
  Status revoke_download_token(std::string_view token_hash) noexcept override {
    return guard("auth-hmac: revoke_download_token", [&]() -> Status {
      if (token_hash.size() != 64 ||
          token_hash.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
        return Status::InvalidArgument("auth-hmac: token_hash is not a SHA-256 hex");
      }
      auto now = host_.clock().now();
      auto keep =
          std::chrono::seconds(std::max<std::int64_t>(kMinRevocationKeepS, token_ttl_.count()));
      std::lock_guard<std::mutex> g(revoked_mu_);
      if (++revokes_ % 256 == 0) {
        for (auto it = revoked_.begin(); it != revoked_.end();) {
          it = it->second <= now ? revoked_.erase(it) : std::next(it);
        }
      }
      auto& until = revoked_[std::string(token_hash)];
      until = std::max(until, now + keep);
      return Status::Ok();
    });
  }

  bool needs_token_events() const noexcept override { return false; }

  // ABI minor 1: the tokens this instance issued to the user (issued_ledger.hpp; in memory).
  Status revoke_download_tokens_of(std::int64_t user_id,
                                   std::vector<std::string>* hashes) noexcept override {
    return guard("auth-hmac: revoke_download_tokens_of", [&]() -> Status {
      std::vector<std::string> found = ledger_.unexpired(user_id, host_.clock().now());
      for (const std::string& h : found) DFD_RETURN_IF_ERROR(revoke_download_token(h));
      if (hashes) *hashes = std::move(found);
      return Status::Ok();
    });
  }

 private:
  Status sign(const std::string& payload, unsigned char mac[kMacBytes]) const {
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
             reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac,
             &len) == nullptr ||
        len != kMacBytes) {
      return Status::Internal("auth-hmac: HMAC failed");
    }
    return Status::Ok();
  }

  TokenVerdict verify(std::string_view token, std::string_view scope) {
    if (token.empty() || scope.empty() || token.size() > kMaxTokenChars) {
      return TokenVerdict::kInvalid;
    }
    auto dot = token.find('.');
    if (dot == std::string_view::npos || token.find('.', dot + 1) != std::string_view::npos) {
      return TokenVerdict::kInvalid;
    }
    std::string payload, mac;
    if (!b64url_decode(token.substr(0, dot), &payload) ||
        !b64url_decode(token.substr(dot + 1), &mac)) {
      return TokenVerdict::kInvalid;
    }
    if (mac.size() != kMacBytes || payload.size() <= kHeaderBytes) return TokenVerdict::kInvalid;
    unsigned char want[kMacBytes];
    if (!sign(payload, want).ok()) return TokenVerdict::kInvalid;
    if (CRYPTO_memcmp(want, mac.data(), kMacBytes) != 0) return TokenVerdict::kInvalid;
    // Authentic from here on: the fields are ours.
    if (static_cast<unsigned char>(payload[0]) != kVersion) return TokenVerdict::kInvalid;
    auto expires = static_cast<std::int64_t>(get_u64(payload, 1));
    std::string_view token_scope(payload.data() + kHeaderBytes, payload.size() - kHeaderBytes);
    auto now = host_.clock().now();
    {
      std::lock_guard<std::mutex> g(revoked_mu_);
      if (!revoked_.empty()) {
        auto it = revoked_.find(sha256_hex(token));
        if (it != revoked_.end()) {
          it->second = std::max(it->second, from_unix(expires));
          return TokenVerdict::kRevoked;
        }
      }
    }
    if (now >= from_unix(expires)) return TokenVerdict::kExpired;
    if (token_scope != scope) return TokenVerdict::kWrongScope;
    return TokenVerdict::kValid;
  }

  HostServices& host_;
  std::string key_;  // secret; never logged
  std::string key_path_;
  std::chrono::seconds token_ttl_{3600};
  std::mutex revoked_mu_;
  std::unordered_map<std::string, TimePoint> revoked_;  // token hash → keep until
  std::uint64_t revokes_ = 0;
  IssuedLedger ledger_{kLedgerPerUser};
  Counter* issued_ = nullptr;
  std::array<Counter*, 6> verdicts_{};
};

const PluginKind* kNoRequirements = nullptr;

}  // namespace
}  // namespace dfd::auth_hmac

DFD_PLUGIN(dfd::PluginKind::kAuth, "auth-hmac", "1.0.0",
           "Stateless download tokens signed with HMAC-SHA256 (key from a file)",
           dfd::auth_hmac::kNoRequirements, 0, &dfd::create_plugin<dfd::auth_hmac::HmacAuth>,
           &dfd::destroy_plugin<dfd::auth_hmac::HmacAuth>)
