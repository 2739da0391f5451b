#include "dfd/events.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "dfd/chunks.hpp"
#include "event_fields.hpp"

namespace dfd {
namespace {
using json = nlohmann::json;
namespace lim = events::limits;
namespace fields = events::fields;

Status bad(std::string_view what, std::string_view why) {
  return Status::InvalidArgument(std::string(what) + ": " + std::string(why));
}

// The body bounds of one event kind: bytes, and JSON values its schema can need.
struct BodyBounds {
  std::size_t max_bytes;
  std::size_t max_values;
};
constexpr BodyBounds kTokenIssuedBounds{lim::kMaxTokenIssuedBytes,
                                        lim::kMaxTokensPerEvent * 8 + lim::kJsonValueSlack};
constexpr BodyBounds kSmallBounds{lim::kMaxSmallEventBytes, lim::kJsonValueSlack};
constexpr BodyBounds kFileAvailableBounds{lim::kMaxFileAvailableBytes,
                                          lim::kMaxChunks + lim::kJsonValueSlack};

// The body as a v1 JSON object, after the size, nesting and value-count bounds.
Result<json> parse_v1(std::string_view body, std::string_view what, BodyBounds bounds) {
  if (body.size() > bounds.max_bytes) {
    return bad(what, "body of " + std::to_string(body.size()) + " bytes (limit " +
                         std::to_string(bounds.max_bytes) + ")");
  }
  if (!fields::json_shape_within(body, lim::kMaxJsonDepth, bounds.max_values)) {
    return bad(what, "JSON nested deeper than " + std::to_string(lim::kMaxJsonDepth) +
                         " or with more than " + std::to_string(bounds.max_values) + " values");
  }
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad(what, "body is not a JSON object");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || *v != 1) {
    return bad(what, "missing or unsupported \"v\" (want 1)");
  }
  return j;
}

const json* field(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

Status missing(std::string_view what, const char* key) {
  return bad(what, std::string("missing field \"") + key + "\"");
}

Status invalid(std::string_view what, const char* key, std::string_view rule) {
  return bad(what, std::string("field \"") + key + "\" " + std::string(rule));
}

// A string field that `ok` accepts.
template <typename Check>
Status take_string(const json& j, const char* key, std::string& out, std::string_view what,
                   Check ok, std::string_view rule) {
  const json* f = field(j, key);
  if (!f) return missing(what, key);
  if (!f->is_string()) return invalid(what, key, "has a wrong type");
  const auto& s = f->get_ref<const std::string&>();
  if (!ok(std::string_view(s))) return invalid(what, key, rule);
  out = s;
  return Status::Ok();
}

// A non-negative integer field in [lo, hi] (no float, no negative, nothing above `hi`: never a
// lossy conversion). Every dfd event integer is non-negative.
template <typename T>
Status take_int(const json& j, const char* key, T& out, std::string_view what, std::uint64_t lo,
                std::uint64_t hi) {
  const json* f = field(j, key);
  if (!f) return missing(what, key);
  if (!f->is_number_integer()) return invalid(what, key, "has a wrong type");
  std::uint64_t u = 0;
  if (f->is_number_unsigned()) {
    u = f->get<std::uint64_t>();
  } else {
    const auto i = f->get<std::int64_t>();
    if (i < 0) return invalid(what, key, "is out of range");
    u = static_cast<std::uint64_t>(i);
  }
  if (u < lo || u > hi) return invalid(what, key, "is out of range");
  out = static_cast<T>(u);
  return Status::Ok();
}

bool is_token_hash(std::string_view s) {
  return fields::is_lower_hex(s, lim::kTokenHashHex);
}
bool is_digest(std::string_view s) {
  return fields::is_digest_hex(s);
}
bool is_id(std::string_view s) {
  return fields::is_token_text(s, lim::kMaxIdBytes);
}
bool is_url(std::string_view s) {
  return fields::is_http_url(s, lim::kMaxUrlBytes);
}
constexpr std::string_view kHashRule = "is not 64 lower-case hex characters";
constexpr std::string_view kDigestRule = "is not a digest (64 or 128 lower-case hex characters)";
constexpr std::string_view kIdRule = "is not 1-256 bytes of printable ASCII without space";
constexpr std::string_view kUrlRule = "is not an http(s) URL of at most 2048 printable bytes";

std::int64_t to_unix(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
TimePoint from_unix(std::int64_t s) {
  return TimePoint(std::chrono::seconds(s));  // s <= kMaxUnixSeconds: no overflow
}
}  // namespace

namespace events {

namespace {
json token_record_json(const DownloadTokenRecord& r) {
  return json{{"token_hash", r.token_hash},
              {"scope", r.scope},
              {"user_id", r.user_id},
              {"expires_at", to_unix(r.expires_at)}};
}

// The record fields of one JSON object (the single form's body or one batch element).
Result<DownloadTokenRecord> token_record_from(const json& j, std::string_view what) {
  if (!j.is_object()) return bad(what, "not a JSON object");
  DownloadTokenRecord r;
  std::int64_t exp = 0;
  DFD_RETURN_IF_ERROR(take_string(j, "token_hash", r.token_hash, what, is_token_hash, kHashRule));
  DFD_RETURN_IF_ERROR(take_string(j, "scope", r.scope, what, is_digest, kDigestRule));
  DFD_RETURN_IF_ERROR(take_int(j, "user_id", r.user_id, what, 0, lim::kMaxUserId));
  DFD_RETURN_IF_ERROR(take_int(j, "expires_at", exp, what, 0, lim::kMaxUnixSeconds));
  r.expires_at = from_unix(exp);
  return r;
}
}  // namespace

std::string encode_token_issued(const DownloadTokenRecord& r) {
  json j = token_record_json(r);
  j["v"] = 1;
  return j.dump();
}

Result<DownloadTokenRecord> decode_token_issued(std::string_view body) {
  return guard("token.issued", [&]() -> Result<DownloadTokenRecord> {
    auto j = parse_v1(body, "token.issued", kTokenIssuedBounds);
    if (!j.ok()) return j.status();
    return token_record_from(*j, "token.issued");
  });
}

std::string encode_token_issued_batch(const std::vector<DownloadTokenRecord>& records) {
  json tokens = json::array();
  for (const auto& r : records) tokens.push_back(token_record_json(r));
  return json{{"v", 1}, {"tokens", std::move(tokens)}}.dump();
}

Result<std::vector<DownloadTokenRecord>> decode_token_issued_batch(std::string_view body,
                                                                   std::vector<Status>* skipped) {
  return guard("token.issued", [&]() -> Result<std::vector<DownloadTokenRecord>> {
    auto j = parse_v1(body, "token.issued", kTokenIssuedBounds);
    if (!j.ok()) return j.status();
    std::vector<DownloadTokenRecord> out;
    const json* tokens = field(*j, "tokens");
    if (!tokens) {  // the single-record form
      auto r = token_record_from(*j, "token.issued");
      if (!r.ok()) return r.status();
      out.push_back(std::move(r.value()));
      return out;
    }
    if (!tokens->is_array()) return bad("token.issued", "field \"tokens\" is not an array");
    if (tokens->size() > lim::kMaxTokensPerEvent) {
      return bad("token.issued", std::to_string(tokens->size()) + " tokens (limit " +
                                     std::to_string(lim::kMaxTokensPerEvent) + ")");
    }
    out.reserve(tokens->size());
    std::size_t i = 0;
    for (const json& e : *tokens) {
      auto r = token_record_from(e, "token.issued: tokens[" + std::to_string(i++) + "]");
      if (r.ok()) {
        out.push_back(std::move(r.value()));
      } else if (skipped) {
        skipped->push_back(r.status());
      }
    }
    return out;
  });
}

std::string encode_token_revoked(std::string_view token_hash) {
  return json{{"v", 1}, {"token_hash", std::string(token_hash)}}.dump();
}

Result<std::string> decode_token_revoked(std::string_view body) {
  return guard("token.revoked", [&]() -> Result<std::string> {
    const char* w = "token.revoked";
    auto j = parse_v1(body, w, kSmallBounds);
    if (!j.ok()) return j.status();
    std::string h;
    DFD_RETURN_IF_ERROR(take_string(*j, "token_hash", h, w, is_token_hash, kHashRule));
    return h;
  });
}

std::string encode_file_available(const FileAvailable& f) {
  return json{{"v", 1},
              {"server_id", f.server_id},
              {"zone", f.zone},
              {"url", f.url},
              {"uid", f.uid},
              {"name", f.name},
              {"size", f.size},
              {"alg", f.alg},
              {"chunk_size", f.chunk_size},
              {"chunks", f.chunks}}
      .dump();
}

namespace {
// "chunks": exactly `want` digests of `hex_len` lower-case hex characters each.
Status take_chunks(const json& j, std::uint64_t want, std::size_t hex_len,
                   std::vector<std::string>& out) {
  const char* w = "file.available";
  const json* chunks = field(j, "chunks");
  if (!chunks) return missing(w, "chunks");
  if (!chunks->is_array()) return invalid(w, "chunks", "is not an array");
  if (chunks->size() != want) {
    return bad(w, std::to_string(chunks->size()) + " chunk digests for " + std::to_string(want) +
                      " chunks");
  }
  out.reserve(chunks->size());
  for (const json& c : *chunks) {
    if (!c.is_string() || !fields::is_lower_hex(c.get_ref<const std::string&>(), hex_len)) {
      return bad(w, "chunk digest " + std::to_string(out.size()) +
                        " is not lower-case hex of the uid's length");
    }
    out.push_back(c.get<std::string>());
  }
  return Status::Ok();
}
}  // namespace

Result<FileAvailable> decode_file_available(std::string_view body) {
  return guard("file.available", [&]() -> Result<FileAvailable> {
    const char* w = "file.available";
    auto j = parse_v1(body, w, kFileAvailableBounds);
    if (!j.ok()) return j.status();
    FileAvailable f;
    auto is_name = [](std::string_view s) {
      return fields::is_display_safe_name(s, lim::kMaxNameBytes);
    };
    auto is_alg = [](std::string_view s) { return fields::is_token_text(s, lim::kMaxAlgBytes); };
    DFD_RETURN_IF_ERROR(take_string(*j, "server_id", f.server_id, w, is_id, kIdRule));
    DFD_RETURN_IF_ERROR(take_string(*j, "zone", f.zone, w, is_id, kIdRule));
    DFD_RETURN_IF_ERROR(take_string(*j, "url", f.url, w, is_url, kUrlRule));
    DFD_RETURN_IF_ERROR(take_string(*j, "uid", f.uid, w, is_digest, kDigestRule));
    DFD_RETURN_IF_ERROR(take_string(*j, "name", f.name, w, is_name,
                                    "is not a safe relative path of 1-4096 bytes of UTF-8 "
                                    "without control characters"));
    DFD_RETURN_IF_ERROR(take_int(*j, "size", f.size, w, 0, lim::kMaxFileSize));
    DFD_RETURN_IF_ERROR(take_string(*j, "alg", f.alg, w, is_alg,
                                    "is not 1-32 bytes of printable ASCII without space"));
    const std::size_t known = fields::digest_hex_length(f.alg);
    if (known != 0 && known != f.uid.size()) {
      return bad(w, "uid has " + std::to_string(f.uid.size()) + " hex characters, the algorithm " +
                        std::to_string(known));
    }
    DFD_RETURN_IF_ERROR(take_int(*j, "chunk_size", f.chunk_size, w, 1, lim::kMaxChunkSize));
    const std::uint64_t want = chunk_count(f.size, f.chunk_size);
    if (want > lim::kMaxChunks) {
      return bad(w,
                 std::to_string(want) + " chunks (limit " + std::to_string(lim::kMaxChunks) + ")");
    }
    DFD_RETURN_IF_ERROR(take_chunks(*j, want, f.uid.size(), f.chunks));
    return f;
  });
}

std::string encode_file_removed(const FileRemoved& f) {
  return json{{"v", 1}, {"server_id", f.server_id}, {"uid", f.uid}}.dump();
}

Result<FileRemoved> decode_file_removed(std::string_view body) {
  return guard("file.removed", [&]() -> Result<FileRemoved> {
    const char* w = "file.removed";
    auto j = parse_v1(body, w, kSmallBounds);
    if (!j.ok()) return j.status();
    FileRemoved f;
    DFD_RETURN_IF_ERROR(take_string(*j, "server_id", f.server_id, w, is_id, kIdRule));
    DFD_RETURN_IF_ERROR(take_string(*j, "uid", f.uid, w, is_digest, kDigestRule));
    return f;
  });
}

std::string encode_heartbeat(const Heartbeat& h) {
  return json{{"v", 1},       {"server_id", h.server_id},     {"zone", h.zone},
              {"url", h.url}, {"interval_ms", h.interval_ms}, {"files", h.files}}
      .dump();
}

Result<Heartbeat> decode_heartbeat(std::string_view body) {
  return guard("server.heartbeat", [&]() -> Result<Heartbeat> {
    const char* w = "server.heartbeat";
    auto j = parse_v1(body, w, kSmallBounds);
    if (!j.ok()) return j.status();
    Heartbeat h;
    DFD_RETURN_IF_ERROR(take_string(*j, "server_id", h.server_id, w, is_id, kIdRule));
    DFD_RETURN_IF_ERROR(take_string(*j, "zone", h.zone, w, is_id, kIdRule));
    DFD_RETURN_IF_ERROR(take_string(*j, "url", h.url, w, is_url, kUrlRule));
    DFD_RETURN_IF_ERROR(
        take_int(*j, "interval_ms", h.interval_ms, w, 0, lim::kMaxHeartbeatIntervalMs));
    DFD_RETURN_IF_ERROR(take_int(*j, "files", h.files, w, 0, lim::kMaxHeartbeatFiles));
    return h;
  });
}

}  // namespace events

std::string format_rfc3339(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string to_hex(const void* data, std::size_t len) {
  static const char* kHex = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out(len * 2, '0');
  for (std::size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 0xf];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return to_hex(md, n);
}

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return Status::Internal("RAND_bytes failed");
  }
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

}  // namespace dfd
