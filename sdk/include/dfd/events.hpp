// dfd SDK support — the broker events' bodies (JSON, "v": 1), encoded and decoded in one place.
// Part of the small static helper library `dfd::sdk_support` (link it; it is position-independent).
//
// Schemas by event name (all times are Unix seconds, all digests lower-case hex). A file server's
// events travel under its own routing key, the event name + "." + its server id
// (events::server_routing_key in dfd/broker.hpp), and their "server_id" must be that id. Between
// hosts each body is wrapped in a signed envelope by the host (dfd/event_signing.hpp).
//   token.issued     {"v":1,"token_hash","scope","user_id","expires_at"}   (one token), or
//                    {"v":1,"tokens":[{"token_hash","scope","user_id","expires_at"},...]}  (batch)
//   token.revoked    {"v":1,"token_hash"}
//   file.available
//   {"v":1,"server_id","zone","url","uid","name","size","alg","chunk_size","chunks":[..]}
//   file.removed     {"v":1,"server_id","uid"}
//   server.heartbeat {"v":1,"server_id","zone","url","interval_ms","files"}
// Decoders ignore unknown fields (forward compatible) and refuse a missing "v" or v != 1, a number
// field that is not a JSON integer (a float, or negative where the field is unsigned) and an
// "expires_at" outside what a TimePoint holds (fuzzed: docs/fuzzing.md).
//
// Every decoder is a total function over untrusted bytes (a broker delivers whatever anyone with
// a broker login published): any input yields a value or kInvalidArgument, never an exception,
// a crash or an unbounded allocation. The exact bounds are the constants in `limits` below; a
// body outside them is refused whole. Error messages name the event, the field and counts, never
// a value taken from the body (a body may carry a token hash or an attacker's escape sequences).
// Thread-safe (no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/auth.hpp"
#include "dfd/status.hpp"

namespace dfd::events {

namespace limits {
// Body sizes, checked before any parsing.
inline constexpr std::size_t kMaxTokenIssuedBytes = std::size_t{2} << 20;  // a full batch
inline constexpr std::size_t kMaxSmallEventBytes = std::size_t{16} << 10;  // revoked, removed, beat
inline constexpr std::size_t kMaxFileAvailableBytes = std::size_t{40}
                                                      << 20;  // kMaxChunks x 128 hex
// The largest body any event may have: a broker consumer refuses bigger deliveries unread.
inline constexpr std::size_t kMaxEventBytes = kMaxFileAvailableBytes;
// JSON nesting ({"v":1,"tokens":[{...}]} is 3); deeper bodies are refused before parsing.
inline constexpr std::size_t kMaxJsonDepth = 8;
// JSON values a body may hold beyond what its schema needs (unknown fields of newer versions);
// counted before parsing, so a body of millions of tiny values is refused unparsed.
inline constexpr std::size_t kJsonValueSlack = 256;
inline constexpr std::size_t kMaxTokensPerEvent = 4096;          // token.issued batch elements
inline constexpr std::size_t kMaxChunks = std::size_t{1} << 18;  // 1 TiB in 4 MiB chunks
inline constexpr std::size_t kMaxIdBytes = 256;     // server_id, zone: printable ASCII, no space
inline constexpr std::size_t kMaxUrlBytes = 2048;   // http:// or https://, printable ASCII
inline constexpr std::size_t kMaxNameBytes = 4096;  // UTF-8, no control character, safe path
inline constexpr std::size_t kMaxAlgBytes = 32;
inline constexpr std::size_t kTokenHashHex = 64;  // token_hash: lower-case hex SHA-256
// Digests (uid, scope, chunks): lower-case hex of 64 or 128 characters; in file.available every
// chunk digest has the uid's length, which is the one `alg` gives when dfd knows `alg`.
inline constexpr std::int64_t kMaxUnixSeconds = 4294967295;  // expires_at (year 2106)
inline constexpr std::int64_t kMaxUserId = std::numeric_limits<std::int64_t>::max();  // >= 0
inline constexpr std::uint64_t kMaxFileSize = std::numeric_limits<std::int64_t>::max();
inline constexpr std::uint64_t kMaxChunkSize = std::uint64_t{1} << 40;     // >= 1
inline constexpr std::int64_t kMaxHeartbeatIntervalMs = 3600000;           // >= 0
inline constexpr std::int64_t kMaxHeartbeatFiles = std::int64_t{1} << 40;  // >= 0
}  // namespace limits

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
  std::string uid;  // whole-file digest (hex) = the file's identity
  // Path relative to the storage root. The decoder refuses control characters (ESC, BEL, NUL,
  // newline, C1), U+2028/U+2029, bidi overrides and isolates, invalid UTF-8 and unsafe paths
  // ("..", leading '/', dot segments).
  std::string name;
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
