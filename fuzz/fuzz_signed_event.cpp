// Fuzz target: the signed-event envelope and its verifier (sdk/src/event_envelope.cpp,
// event_verifier.cpp; dfd/event_signing.hpp). The first input byte picks the routing key, the
// rest is the message as a broker would deliver it. The verifier trusts one fixed key (below) as
// sender "fs-a" and "info", with a fixed clock, so seeds signed with that key reach every check.
// Contract: never throws, never crashes. Invariants: a parsed envelope's views lie inside the
// input, its body is everything after the first '\n', its fields have their exact shapes; an
// accepted event came from a trusted sender, names its sender in file.* / server.* keys, and is
// refused as replayed once accepted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dfd/event_signing.hpp"
#include "fuzz_check.hpp"

namespace {

namespace ev = dfd::events;

// The seeds' signing key (a fuzzing fixture, used nowhere else).
constexpr std::string_view kPublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA0hUG0ZzZKGNYL6jk+261xila0l1NqzYBMGMOoEVo3MA=\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::int64_t kNow = 1800000000;  // the seeds are signed at this time
constexpr std::string_view kKeys[] = {"token.issued",          "token.revoked",
                                      "file.available.fs-a",   "file.removed.fs-b",
                                      "server.heartbeat.fs-a", "file.x"};

const std::shared_ptr<const ev::TrustedKeys>& trusted() {
  static const auto keys = *ev::TrustedKeys::from_pems(
      {{"fs-a", std::string(kPublicPem)}, {"info", std::string(kPublicPem)}});
  return keys;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view key = kKeys[data[0] % (sizeof(kKeys) / sizeof(kKeys[0]))];
  const std::string_view msg(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto e = ev::parse_envelope(msg);
  FUZZ_CHECK(e.ok() || e.status().code() == dfd::Code::kInvalidArgument);
  if (e.ok()) {
    for (auto part : {e->sender, e->key_id, e->event_id, e->signature_hex, e->body}) {
      FUZZ_CHECK(inside(part, msg));
    }
    FUZZ_CHECK(e->body.data() == msg.data() + msg.find('\n') + 1);
    FUZZ_CHECK(msg.find('\n') < ev::signing::kMaxHeaderBytes);
    FUZZ_CHECK(ev::valid_sender_name(e->sender));
    FUZZ_CHECK(e->key_id.size() == ev::signing::kKeyIdHex && lower_hex(e->key_id));
    FUZZ_CHECK(e->event_id.size() == ev::signing::kEventIdHex && lower_hex(e->event_id));
    FUZZ_CHECK(e->signature_hex.size() == ev::signing::kSignatureHex);
    FUZZ_CHECK(e->ts >= 0 && e->ts < 1000000000000);
  }

  ev::Verifier verifier(trusted(), std::chrono::seconds(600), 4);
  auto v = verifier.verify(key, msg, kNow);
  if (!e.ok()) FUZZ_CHECK(v.reason == ev::Rejection::kUnsigned);
  if (v.reason == ev::Rejection::kNone) {
    FUZZ_CHECK(e.ok());
    FUZZ_CHECK(trusted()->find(e->sender, e->key_id) != nullptr);
    if (ev::routing_key_names_sender(key)) {
      FUZZ_CHECK(key.substr(key.rfind('.') + 1) == e->sender);
    }
    FUZZ_CHECK(e->ts >= kNow - 600 && e->ts <= kNow + 600);
    verifier.accepted(v.envelope, kNow);
    FUZZ_CHECK(verifier.verify(key, msg, kNow).reason == ev::Rejection::kReplayed);
  }
  return 0;
}
