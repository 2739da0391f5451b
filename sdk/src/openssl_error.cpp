#include "dfd/openssl_error.hpp"

#include <openssl/err.h>

namespace dfd {

std::string take_openssl_error(OpensslErrorText form) {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    if (!text.empty()) continue;
    const char* reason = form == OpensslErrorText::kReason ? ERR_reason_error_string(e) : nullptr;
    if (reason) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      text = buf;
    }
  }
  return text;
}

}  // namespace dfd
