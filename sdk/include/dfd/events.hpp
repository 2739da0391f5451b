// dfd SDK support — the broker events' bodies (JSON, "v": 1), encoded and decoded in one place.
// Part of the small static helper library `dfd::sdk_support` (link it; it is position-independent).
//
// Schemas (all times are Unix seconds, all digests lower-case hex):
//   token.issued     {"v":1,"token_hash","scope","user_id","expires_at"}   (one token), or
//                    {"v":1,"tokens":[{"token_hash","scope","user_id","expires_at"},...]}  (batch)
//   token.revoked    {"v":1,"token_hash"}
//   file.available
//   {"v":1,"server_id","zone","url","uid","name","size","alg","chunk_size","chunks":[..]}
//   file.removed     {"v":1,"server_id","uid"}
//   server.heartbeat {"v":1,"server_id","zone","url","interval_ms","files"}
// Decoders ignore unknown fields (forward compatible) and refuse a missing "v" or v != 1, a number
// field that is not a JSON integer (a float, or negative where the field is unsigned) and an
// "expires_at" outside what a TimePoint holds. They never throw (fuzzed: docs/fuzzing.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/auth.hpp"
#include "dfd/status.hpp"

namespace dfd::events {

std::string encode_token_issued(const DownloadTokenRecord& r);
Result<DownloadTokenRecord> decode_token_issued(std::string_view body);  // single form only

// The batch form: {"v":1,"tokens":[{token_hash,scope,user_id,expires_at},...]} (records in order).
std::string encode_token_issued_batch(const std::vector<DownloadTokenRecord>& records);
// Accepts BOTH forms (a single-record body gives a vector of one). The whole body is refused
// (error) when it is not a v1 JSON object, or when it has no "tokens" array and is not a valid
// single record. In the batch form a malformed element is skipped: it is left out of the result
// and, when `skipped` is given, its reason is appended there (so a consumer can log it).
Result<std::vector<DownloadTokenRecord>> decode_token_issued_batch(
    std::string_view body, std::vector<Status>* skipped = nullptr);

std::string encode_token_revoked(std::string_view token_hash);
Result<std::string> decode_token_revoked(std::string_view body);  // the token hash

struct FileAvailable {
  std::string server_id, zone, url;
  std::string uid;   // whole-file digest (hex) = the file's identity
  std::string name;  // path relative to the storage root
  std::uint64_t size = 0;
  std::string alg;  // "sha256"
  std::uint64_t chunk_size = 0;
  std::vector<std::string> chunks;  // one digest per chunk
};
std::string encode_file_available(const FileAvailable& f);
Result<FileAvailable> decode_file_available(std::string_view body);

struct FileRemoved {
  std::string server_id, uid;
};
std::string encode_file_removed(const FileRemoved& f);
Result<FileRemoved> decode_file_removed(std::string_view body);

struct Heartbeat {
  std::string server_id, zone, url;
  std::int64_t interval_ms = 0;
  std::int64_t files = 0;
};
std::string encode_heartbeat(const Heartbeat& h);
Result<Heartbeat> decode_heartbeat(std::string_view body);

}  // namespace dfd::events

namespace dfd {
// "2026-11-24T11:00:00Z" (UTC, seconds precision).
std::string format_rfc3339(TimePoint t);
// Lower-case hex of bytes.
std::string to_hex(const void* data, std::size_t len);
// Lower-case hex SHA-256 of `data` (OpenSSL).
std::string sha256_hex(std::string_view data);
// Constant-time equality of two strings (length may leak, contents do not).
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;
// `bytes` random bytes from the OS CSPRNG, as URL-safe base64 without padding.
Result<std::string> random_token(std::size_t bytes = 32);
}  // namespace dfd
