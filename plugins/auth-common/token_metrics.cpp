#include "token_metrics.hpp"

namespace dfd::auth_common {

void TokenMetrics::init(Metrics& m) {
  issued_ = &m.counter("dfd_auth_tokens_issued_total", "Download tokens issued by this server");
  for (int v = 0; v <= static_cast<int>(TokenVerdict::kRevoked); ++v) {
    verdicts_[v] = &m.counter("dfd_auth_verify_total", "Download token checks by verdict",
                              {{"verdict", verdict_name(static_cast<TokenVerdict>(v))}});
  }
}

}  // namespace dfd::auth_common
