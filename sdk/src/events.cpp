#include "dfd/events.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <type_traits>

namespace dfd {
namespace {
using json = nlohmann::json;

Result<json> parse_v1(std::string_view body, std::string_view what) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument(std::string(what) + ": body is not a JSON object");
  }
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int>() != 1) {
    return Status::InvalidArgument(std::string(what) + ": missing or unsupported \"v\" (want 1)");
  }
  return j;
}

template <typename T>
Status take(const json& j, const char* key, T& out, std::string_view what) {
  auto it = j.find(key);
  if (it == j.end()) {
    return Status::InvalidArgument(std::string(what) + ": missing field \"" + key + "\"");
  }
  // nlohmann converts any number to any arithmetic type with a plain cast: a float out of range
  // is undefined behaviour, a negative integer wraps. Integers must be JSON integers that fit.
  if constexpr (std::is_integral_v<T>) {
    bool fits = it->is_number_unsigned()
                    ? it->template get<std::uint64_t>() <= INT64_MAX || std::is_unsigned_v<T>
                    : it->is_number_integer() &&
                          (std::is_signed_v<T> || it->template get<std::int64_t>() >= 0);
    if (!fits) {
      return Status::InvalidArgument(std::string(what) + ": field \"" + key +
                                     "\" has a wrong type or is out of range");
    }
  }
  try {
    out = it->get<T>();
  } catch (const std::exception&) {
    return Status::InvalidArgument(std::string(what) + ": field \"" + key + "\" has a wrong type");
  }
  return Status::Ok();
}

std::int64_t to_unix(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
TimePoint from_unix(std::int64_t s) {
  return TimePoint(std::chrono::seconds(s));
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
  if (!j.is_object()) return Status::InvalidArgument(std::string(what) + ": not a JSON object");
  DownloadTokenRecord r;
  std::int64_t exp = 0;
  DFD_RETURN_IF_ERROR(take(j, "token_hash", r.token_hash, what));
  DFD_RETURN_IF_ERROR(take(j, "scope", r.scope, what));
  DFD_RETURN_IF_ERROR(take(j, "user_id", r.user_id, what));
  DFD_RETURN_IF_ERROR(take(j, "expires_at", exp, what));
  // A TimePoint counts nanoseconds in 64 bits: seconds beyond ±292 years would overflow.
  constexpr auto kMaxUnix =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count();
  if (exp < -kMaxUnix || exp > kMaxUnix) {
    return Status::InvalidArgument(std::string(what) + ": field \"expires_at\" is out of range");
  }
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
    auto j = parse_v1(body, "token.issued");
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
    auto j = parse_v1(body, "token.issued");
    if (!j.ok()) return j.status();
    std::vector<DownloadTokenRecord> out;
    auto tokens = j->find("tokens");
    if (tokens == j->end()) {  // the single-record form
      auto r = token_record_from(*j, "token.issued");
      if (!r.ok()) return r.status();
      out.push_back(std::move(r.value()));
      return out;
    }
    if (!tokens->is_array()) {
      return Status::InvalidArgument("token.issued: field \"tokens\" is not an array");
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
    auto j = parse_v1(body, "token.revoked");
    if (!j.ok()) return j.status();
    std::string h;
    DFD_RETURN_IF_ERROR(take(*j, "token_hash", h, "token.revoked"));
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

Result<FileAvailable> decode_file_available(std::string_view body) {
  return guard("file.available", [&]() -> Result<FileAvailable> {
    const char* w = "file.available";
    auto j = parse_v1(body, w);
    if (!j.ok()) return j.status();
    FileAvailable f;
    DFD_RETURN_IF_ERROR(take(*j, "server_id", f.server_id, w));
    DFD_RETURN_IF_ERROR(take(*j, "zone", f.zone, w));
    DFD_RETURN_IF_ERROR(take(*j, "url", f.url, w));
    DFD_RETURN_IF_ERROR(take(*j, "uid", f.uid, w));
    DFD_RETURN_IF_ERROR(take(*j, "name", f.name, w));
    DFD_RETURN_IF_ERROR(take(*j, "size", f.size, w));
    DFD_RETURN_IF_ERROR(take(*j, "alg", f.alg, w));
    DFD_RETURN_IF_ERROR(take(*j, "chunk_size", f.chunk_size, w));
    DFD_RETURN_IF_ERROR(take(*j, "chunks", f.chunks, w));
    if (f.chunk_size == 0) return Status::InvalidArgument("file.available: chunk_size is 0");
    std::uint64_t want = f.size / f.chunk_size + (f.size % f.chunk_size != 0 ? 1 : 0);
    if (f.chunks.size() != want) {
      return Status::InvalidArgument("file.available: " + std::to_string(f.chunks.size()) +
                                     " chunk digests for " + std::to_string(want) + " chunks");
    }
    return f;
  });
}

std::string encode_file_removed(const FileRemoved& f) {
  return json{{"v", 1}, {"server_id", f.server_id}, {"uid", f.uid}}.dump();
}

Result<FileRemoved> decode_file_removed(std::string_view body) {
  return guard("file.removed", [&]() -> Result<FileRemoved> {
    auto j = parse_v1(body, "file.removed");
    if (!j.ok()) return j.status();
    FileRemoved f;
    DFD_RETURN_IF_ERROR(take(*j, "server_id", f.server_id, "file.removed"));
    DFD_RETURN_IF_ERROR(take(*j, "uid", f.uid, "file.removed"));
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
    auto j = parse_v1(body, w);
    if (!j.ok()) return j.status();
    Heartbeat h;
    DFD_RETURN_IF_ERROR(take(*j, "server_id", h.server_id, w));
    DFD_RETURN_IF_ERROR(take(*j, "zone", h.zone, w));
    DFD_RETURN_IF_ERROR(take(*j, "url", h.url, w));
    DFD_RETURN_IF_ERROR(take(*j, "interval_ms", h.interval_ms, w));
    DFD_RETURN_IF_ERROR(take(*j, "files", h.files, w));
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
