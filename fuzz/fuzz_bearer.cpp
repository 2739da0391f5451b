// Fuzz target: the wire library's bearer parser (sdk/include/dfd/wire/bearer.hpp parse_bearer,
// bearer_token), which reads the Authorization value of every data plane and info API request.
// Invariants: the token is a view inside the input; kToken is a b64token of at most
// kMaxBearerTokenBytes (no blank, no control byte) and "Bearer " + token parses back to it;
// kMalformed has a non-empty token that is not a b64token; kNone has none; bearer_token agrees.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dfd/wire/bearer.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using dfd::wire::BearerCredentials;
  std::string_view value(reinterpret_cast<const char*>(data), size);
  BearerCredentials b = dfd::wire::parse_bearer(value);
  std::string_view token = dfd::wire::bearer_token(value);
  switch (b.form) {
    case BearerCredentials::Form::kNone:
      FUZZ_CHECK(b.token.empty() && token.empty());
      return 0;
    case BearerCredentials::Form::kMalformed:
      FUZZ_CHECK(!b.token.empty() && !dfd::wire::is_b64token(b.token) && token.empty());
      break;
    case BearerCredentials::Form::kToken: {
      FUZZ_CHECK(token == b.token && dfd::wire::is_b64token(token));
      FUZZ_CHECK(token.size() <= dfd::wire::kMaxBearerTokenBytes);
      for (char c : token) FUZZ_CHECK(c > ' ' && c < 0x7f);
      FUZZ_CHECK(dfd::wire::bearer_token("Bearer " + std::string(token)) == token);
      break;
    }
  }
  FUZZ_CHECK(b.token.data() >= value.data() &&
             b.token.data() + b.token.size() <= value.data() + value.size());
  return 0;
}
