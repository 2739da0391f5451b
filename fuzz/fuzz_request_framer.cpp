// Fuzz target: the control plane's request framer (host/src/request_framer.*), which sees every
// byte a peer sends before Pistache does. The first input byte picks the piece size the bytes are
// fed in (as a peer's writes would split them); the rest is the connection's byte stream.
// Invariants: take() never consumes more than it is given; it consumes at least one byte unless
// it refuses; a refusal is sticky and has a 4xx status and a code; no request passes more than
// max_head + max_body bytes; the body counted after a head never exceeds max_body.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "request_framer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  std::size_t left = size - 1;

  const dfd::host::FramerLimits limits{256, 512};  // small, so the limits are reached often
  dfd::host::RequestFramer framer(limits);
  std::size_t in_request = 0;  // bytes passed on for the current request
  bool refused = false;
  while (left > 0) {
    const std::size_t len = left < piece ? left : piece;
    std::size_t off = 0;
    while (off < len) {
      bool done = false;
      dfd::host::FramerRefusal refusal;
      const std::size_t n = framer.take(bytes + off, len - off, &done, &refusal);
      FUZZ_CHECK(n <= len - off);
      if (n == 0) {
        FUZZ_CHECK(refusal.status >= 400 && refusal.status < 500 && !refusal.code.empty());
        refused = true;
        break;
      }
      in_request += n;
      FUZZ_CHECK(in_request <= limits.max_head + limits.max_body);
      if (done) {
        in_request = 0;
        FUZZ_CHECK(framer.at_request_start());
      }
      off += n;
    }
    if (refused) {
      // Every later call refuses again.
      bool done = false;
      dfd::host::FramerRefusal again;
      FUZZ_CHECK(framer.take(bytes, len, &done, &again) == 0 && again.status >= 400);
      return 0;
    }
    bytes += len;
    left -= len;
  }
  return 0;
}
