// Small pure helpers of the dfd client: sizes, Content-Range, hex, time. No I/O, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "dfd/wire/text.hpp"

namespace dfd::client {

// An error the command line reports as "dfd: <message>" and exits with `exit_code`.
struct CliError : std::runtime_error {
  CliError(int code, const std::string& msg) : std::runtime_error(msg), exit_code(code) {}
  int exit_code;
};

// Exit codes of `dfd` (documented in docs/client.md).
namespace exit_code {
constexpr int kOk = 0;
constexpr int kFailure = 1;        // anything not listed below
constexpr int kUsage = 2;          // bad command line / bad input
constexpr int kAuth = 3;           // not logged in, bad credentials, token refused by info server
constexpr int kServer = 4;         // info server unreachable or answered an error
constexpr int kNotFound = 5;       // no such file id
constexpr int kExists = 6;         // output exists and --force not given
constexpr int kIncomplete = 7;     // every file server failed; verified chunks kept for resume
constexpr int kDigest = 8;         // whole-file digest mismatch (state kept)
constexpr int kLocalIo = 9;        // disk full, permission, other local I/O error (state kept)
constexpr int kDeadline = 10;      // get --deadline passed; verified chunks kept for resume
constexpr int kTls = 11;           // TLS: server certificate not trusted, handshake refused, or
                                   // only plain-http locations for a manifest fetched over https
constexpr int kLocked = 12;        // another dfd is downloading into the same output path
constexpr int kThrottled = 13;     // the info server said 429 (login throttled, rate limited)
constexpr int kAmbiguous = 14;     // a name or uid prefix matches several files (they are listed)
constexpr int kInterrupted = 130;  // SIGINT/SIGTERM (or test stop hook); state kept for resume
}  // namespace exit_code

// 1536 -> "1.5 KiB", 0 -> "0 B", 1073741824 -> "1.0 GiB" (binary units, one decimal).
std::string human_size(std::uint64_t bytes);
// Rate in bytes/s -> "12.3 MiB/s".
std::string human_rate(double bytes_per_s);
// Seconds -> "1m05s", "42s", "1h02m".
std::string human_duration(double seconds);

// A parsed `Content-Range: bytes first-last/total` (total = nullopt for "*").
struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::optional<std::uint64_t> total;
};
// Parses the header VALUE (no name); tolerant of surrounding spaces and case of "bytes".
// Returns nullopt for anything malformed, for "bytes */N" and for last < first.
std::optional<ContentRange> parse_content_range(std::string_view value);

// Lower-case hex of bytes.
std::string to_hex(const unsigned char* data, std::size_t n);
// True if `s` is non-empty, even-length, all hex digits.
bool is_hex(std::string_view s);
// ASCII lower-case copy.
std::string lower(std::string_view s);
// First 12 characters of a hex digest (the whole string when shorter).
std::string short_digest(std::string_view hex);

// The directory part of a path: "a/b" -> "a", "b" -> ".", "/b" -> "/".
std::string dir_of(const std::string& path);

// THE escaping function for text that came from the network (or a file) and is about to be
// printed, and the rule the manifest decoders apply: dfd/wire/text.hpp (one home).
using wire::is_printable_text;
using wire::printable;

}  // namespace dfd::client
