// dfd SDK support — the text of OpenSSL's per-thread error queue, for messages.
//
// Thread-safety: works on the calling thread's queue only.
#pragma once

#include <string>

namespace dfd {

enum class OpensslErrorText {
  kFull,    // OpenSSL's whole line: "error:0A000086:SSL routines::certificate verify failed"
  kReason,  // the reason alone where OpenSSL has one: "certificate verify failed"
};

// The oldest error in this thread's OpenSSL error queue as text, and the whole queue cleared;
// "" when the queue was empty. Never contains key material (OpenSSL's texts are fixed strings).
std::string take_openssl_error(OpensslErrorText form = OpensslErrorText::kFull);

}  // namespace dfd
