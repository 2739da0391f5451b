// The signed-event envelope: parsing (total over untrusted bytes) and the signed bytes.
#include <cstring>

#include "dfd/event_signing.hpp"
#include "dfd/events.hpp"
#include "signing_input.hpp"

namespace dfd::events {
namespace {

bool lower_hex(std::string_view s) noexcept {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Splits `line` at single spaces into exactly `n` non-empty words.
bool split_words(std::string_view line, std::string_view* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t sp = line.find(' ');
    bool last = i + 1 == n;
    if (last != (sp == std::string_view::npos)) return false;
    out[i] = line.substr(0, sp);
    if (out[i].empty()) return false;
    if (!last) line.remove_prefix(sp + 1);
  }
  return true;
}

}  // namespace

const char* rejection_name(Rejection r) noexcept {
  switch (r) {
    case Rejection::kNone:
      return "none";
    case Rejection::kUnsigned:
      return "unsigned";
    case Rejection::kBadSignature:
      return "bad_signature";
    case Rejection::kUnknownKey:
      return "unknown_key";
    case Rejection::kStale:
      return "stale";
    case Rejection::kReplayed:
      return "replayed";
    case Rejection::kWrongSender:
      return "wrong_sender";
  }
  return "unknown";
}

bool valid_sender_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > signing::kMaxSenderBytes) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return name != "." && name != "..";
}

bool routing_key_names_sender(std::string_view routing_key) noexcept {
  return routing_key.rfind("file.", 0) == 0 || routing_key.rfind("server.", 0) == 0;
}

Result<EnvelopeView> parse_envelope(std::string_view message) noexcept {
  namespace sg = signing;
  auto bad = [](const char* why) {
    return Status::InvalidArgument(std::string("envelope: ") + why);
  };
  if (message.size() < sg::kMagic.size() + 1 ||
      message.compare(0, sg::kMagic.size(), sg::kMagic) != 0 || message[sg::kMagic.size()] != ' ') {
    return bad("no dfd-sig1 header");
  }
  std::size_t nl = message.substr(0, sg::kMaxHeaderBytes).find('\n');
  if (nl == std::string_view::npos) return bad("header line missing or too long");
  EnvelopeView e;
  e.body = message.substr(nl + 1);
  if (e.body.size() > limits::kMaxEventBytes) return bad("body too large");
  std::string_view words[6];
  if (!split_words(message.substr(0, nl), words, 6)) return bad("header needs 6 words");
  e.sender = words[1];
  e.key_id = words[2];
  std::string_view ts = words[3];
  e.event_id = words[4];
  e.signature_hex = words[5];
  if (!valid_sender_name(e.sender)) return bad("bad sender name");
  if (e.key_id.size() != sg::kKeyIdHex || !lower_hex(e.key_id)) return bad("bad key id");
  if (e.event_id.size() != sg::kEventIdHex || !lower_hex(e.event_id)) return bad("bad event id");
  if (e.signature_hex.size() != sg::kSignatureHex || !lower_hex(e.signature_hex)) {
    return bad("bad signature field");
  }
  if (ts.size() > sg::kMaxTsDigits || (ts.size() > 1 && ts[0] == '0')) return bad("bad timestamp");
  for (char c : ts) {
    if (c < '0' || c > '9') return bad("bad timestamp");
    e.ts = e.ts * 10 + (c - '0');
  }
  return e;
}

namespace signing {

std::string signing_input(std::string_view routing_key, std::string_view sender,
                          std::string_view key_id, std::int64_t ts, std::string_view event_id,
                          std::string_view body) {
  const std::string ts_text = std::to_string(ts);
  const std::string_view parts[] = {routing_key, sender, key_id, ts_text, event_id, body};
  std::size_t total = kDomain.size() + 1;
  for (auto p : parts) total += 8 + p.size();
  std::string out;
  out.reserve(total);
  out.append(kDomain);
  out.push_back('\0');
  for (auto p : parts) {
    std::uint64_t n = p.size();
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((n >> shift) & 0xff));
    out.append(p);
  }
  return out;
}

}  // namespace signing
}  // namespace dfd::events
