// The bytes an event signature covers (sdk/include/dfd/event_signing.hpp): the domain string and
// '\0', then each field as an 8-byte big-endian length and its bytes. Used by Signer and Verifier.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dfd::events::signing {

std::string signing_input(std::string_view routing_key, std::string_view sender,
                          std::string_view key_id, std::int64_t ts, std::string_view event_id,
                          std::string_view body);

// The 64 signature bytes of the envelope's 128-hex signature field; false when it is not that.
bool signature_from_hex(std::string_view hex, unsigned char (&out)[64]);

}  // namespace dfd::events::signing
