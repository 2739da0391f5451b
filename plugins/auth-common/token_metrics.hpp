// dfd_auth_common — the auth metrics every token store exports (docs/auth.md "Metrics"):
//   dfd_auth_tokens_issued_total                 download tokens issued by this server
//   dfd_auth_verify_total{verdict=valid|unknown|expired|wrong_scope|invalid|revoked}
// and the one rule of a download-token check: an exception or store failure inside it is logged
// and answered kUnknown ("not known here"), never kValid. Thread-safe.
#pragma once

#include <array>
#include <string_view>

#include "dfd/auth.hpp"
#include "dfd/host_services.hpp"

namespace dfd::auth_common {

class TokenMetrics {
 public:
  void init(Metrics& m);  // registers the counters; call once, before the others
  void issued() { issued_->add(); }
  // Runs `check` (guarded by `context`), counts and returns its verdict. Never throws.
  template <typename Check>
  TokenVerdict verify(std::string_view context, Logger& log, Check&& check) noexcept {
    TokenVerdict v = TokenVerdict::kInvalid;
    Status st = guard(context, [&]() -> Status {
      v = check();
      return Status::Ok();
    });
    if (!st.ok()) {
      log.error(st.message());
      v = TokenVerdict::kUnknown;  // a store failure is "not known here", never "valid"
    }
    verdicts_[static_cast<int>(v)]->add();
    return v;
  }

 private:
  Counter* issued_ = nullptr;
  std::array<Counter*, 6> verdicts_{};
};

}  // namespace dfd::auth_common
