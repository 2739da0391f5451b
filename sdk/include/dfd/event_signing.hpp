// dfd SDK support — signed events: who published a broker event, checked before it is applied.
// Part of `dfd::sdk_support`. The host wraps the broker plugin with this (host/src/signed_broker):
// plugins never see it. Model and key handling: docs/security.md "Event signing".
//
// Wire form (one header line, then the unchanged JSON body):
//
//   dfd-sig1 <sender> <key-id> <unix-ts> <event-id> <signature>\n<body>
//
//   sender     who signed: a server id (file servers) or the info server's name; 1..kMaxSenderBytes
//              of letters, digits, '-', '_', '.' (the characters of a server id)
//   key-id     the signer's public key fingerprint: 16 lower-case hex (the first 8 bytes of the
//              SHA-256 of the raw 32-byte Ed25519 public key)
//   unix-ts    signing time, decimal seconds (1..12 digits)
//   event-id   16 random bytes as 32 lower-case hex: the replay cache's key
//   signature  Ed25519 (RFC 8032, pure) as 128 lower-case hex, over the byte string
//              "dfd-event-sig1\0" followed by len64be(x) || x for each of
//              routing key, sender, key-id, unix-ts, event-id, body
//              (so a signed token.revoked cannot be replayed under another routing key, and no
//              field can be moved into another).
//
// parse_envelope() is a total function over untrusted bytes: any input gives a view or an error
// Status, never an exception, a crash or an allocation beyond the input's size; the header line is
// at most kMaxHeaderBytes and the body at most events::limits::kMaxEventBytes (fuzzed:
// fuzz/fuzz_signed_event.cpp). Error messages never quote the input.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "dfd/status.hpp"

namespace dfd::events {

namespace signing {
inline constexpr std::string_view kMagic = "dfd-sig1";
inline constexpr std::string_view kDomain = "dfd-event-sig1";  // + '\0', see above
inline constexpr std::size_t kMaxHeaderBytes = 512;            // the first line, with '\n'
inline constexpr std::size_t kMaxSenderBytes = 128;
inline constexpr std::size_t kKeyIdHex = 16;
inline constexpr std::size_t kEventIdHex = 32;
inline constexpr std::size_t kSignatureHex = 128;
inline constexpr std::size_t kMaxTsDigits = 12;
// Replay cache entries (ids of applied events still inside the time window); see ReplayCache.
inline constexpr std::size_t kDefaultReplayCacheCap = std::size_t{1} << 18;
}  // namespace signing

// Why an event was refused; also the `reason` label of dfd_events_rejected_total.
enum class Rejection {
  kNone = 0,
  kUnsigned,      // no "dfd-sig1 " header, or a header that does not parse
  kBadSignature,  // the signature does not verify with the sender's key
  kUnknownKey,    // no trusted key of that sender with that key id
  kStale,         // ts outside now ± max_age (or older than what the replay cache still covers)
  kReplayed,      // an event with this id was applied already
  kWrongSender,   // file.* / server.*: the routing key's last segment is not the sender
};
const char* rejection_name(Rejection r) noexcept;  // "unsigned", "bad_signature", ...

// A parsed envelope: views into the message given to parse_envelope().
struct EnvelopeView {
  std::string_view sender, key_id, event_id, signature_hex;
  std::int64_t ts = 0;
  std::string_view body;
};
Result<EnvelopeView> parse_envelope(std::string_view message) noexcept;

// True when `name` may be a sender (and a `<name>.pub` file stem).
bool valid_sender_name(std::string_view name) noexcept;

// The routing keys whose last segment names their publisher ("file.available.fs-a"): file.* and
// server.*. For them the sender must equal that segment.
bool routing_key_names_sender(std::string_view routing_key) noexcept;

// An Ed25519 public key (raw 32 bytes), with its key id.
class PublicKey {
 public:
  static Result<PublicKey> from_pem(std::string_view pem);
  static Result<PublicKey> load(const std::string& path);  // a PEM "PUBLIC KEY" file
  const std::string& key_id() const { return key_id_; }
  bool verify(std::string_view message, std::string_view signature) const noexcept;

 private:
  std::shared_ptr<void> pkey_;  // EVP_PKEY
  std::string key_id_;
};

// This host's signing key. Thread-safe (sign() from any thread). Never logs or returns key
// material; errors name the file only.
class Signer {
 public:
  // Loads a PEM Ed25519 private key; refuses the file as dfd/private_file.hpp says.
  static Result<Signer> load(const std::string& path, std::string sender);
  // For tests and keygen: an already parsed PEM text (no file checks).
  static Result<Signer> from_pem(std::string_view pem, std::string sender);

  const std::string& sender() const { return sender_; }
  const std::string& key_id() const { return key_id_; }
  std::string public_pem() const;

  // The whole message (header line + body) for `routing_key`, signed at `ts` (Unix seconds)
  // with a fresh random event id. kInternal only if the CSPRNG or OpenSSL fails.
  Result<std::string> seal(std::string_view routing_key, std::string_view body,
                           std::int64_t ts) const;
  // As seal() with a given event id (32 lower-case hex); for tests.
  Result<std::string> seal_with_id(std::string_view routing_key, std::string_view body,
                                   std::int64_t ts, std::string_view event_id) const;

 private:
  std::shared_ptr<void> pkey_;  // EVP_PKEY
  std::string sender_, key_id_;
};

// A new Ed25519 key pair as PEM texts (PKCS#8 private key, SubjectPublicKeyInfo public key).
struct KeyPairPem {
  std::string private_pem, public_pem, key_id;
};
Result<KeyPairPem> generate_key_pair();

// The trusted senders: `<sender>.pub` files of one directory (the file name stem is the sender's
// name). While a key is rotated a sender has two: `<sender>@<label>.pub` also names `<sender>`
// ('@' is not part of any sender name). Other files are ignored. Immutable once loaded.
class TrustedKeys {
 public:
  // Every *.pub file of `dir`; an unreadable or malformed one is an error naming it. An empty
  // directory is allowed (nothing is trusted).
  static Result<std::shared_ptr<const TrustedKeys>> load_dir(const std::string& dir);
  // For tests: sender → PEM texts.
  static Result<std::shared_ptr<const TrustedKeys>> from_pems(
      const std::multimap<std::string, std::string>& pems);

  // The key of `sender` with `key_id`, or null.
  const PublicKey* find(std::string_view sender, std::string_view key_id) const;
  std::size_t size() const noexcept { return keys_.size(); }

 private:
  std::map<std::string, PublicKey> keys_;  // "<sender> <key id>" → key
};

// Ids of applied events, each kept until its ts + max_age (after that the event is stale anyway).
// Bounded: at most `cap` ids. When full (after dropping expired ids), the id with the oldest ts is
// forgotten and every event at or before that ts is refused as stale from then on: the window
// shrinks under load, it never reopens for a replay. Thread-safe.
class ReplayCache {
 public:
  ReplayCache(std::chrono::seconds max_age, std::size_t cap = signing::kDefaultReplayCacheCap);
  // kNone, kReplayed (id known) or kStale (ts at or before the floor left by the cap).
  Rejection check(std::string_view event_id, std::int64_t ts) const;
  // Records an applied event; drops ids expired at `now`.
  void remember(std::string_view event_id, std::int64_t ts, std::int64_t now);
  std::size_t size() const;
  std::int64_t floor() const;  // events with ts <= floor() are refused (0: none)

 private:
  void expire(std::int64_t now);
  std::int64_t max_age_;
  std::size_t cap_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> ids_;     // id → ts
  std::set<std::pair<std::int64_t, std::string>> by_ts_;  // (ts, id)
  std::int64_t floor_ = 0;
};

// Checks one delivery: envelope, trusted key, signature, sender binding, time window, replay.
// On success returns the verified envelope (views into `message`); the caller applies the body
// and then calls accepted() so the id is remembered (an event whose handler failed is not, and
// its redelivery is applied). Thread-safe.
class Verifier {
 public:
  Verifier(std::shared_ptr<const TrustedKeys> keys, std::chrono::seconds max_age,
           std::size_t replay_cap = signing::kDefaultReplayCacheCap);

  struct Verdict {
    Rejection reason = Rejection::kNone;
    EnvelopeView envelope;  // valid when reason == kNone (and sender/key for later reasons)
  };
  Verdict verify(std::string_view routing_key, std::string_view message,
                 std::int64_t now) const noexcept;
  void accepted(const EnvelopeView& e, std::int64_t now);
  // Replaces the trusted keys (SIGHUP); the replay cache stays.
  void set_keys(std::shared_ptr<const TrustedKeys> keys);

  ReplayCache& replay_cache() { return replay_; }

 private:
  std::shared_ptr<const TrustedKeys> keys() const;
  mutable std::mutex keys_mu_;
  std::shared_ptr<const TrustedKeys> keys_;
  std::int64_t max_age_;
  ReplayCache replay_;
};

}  // namespace dfd::events
