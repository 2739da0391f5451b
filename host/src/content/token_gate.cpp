#include "content/token_gate.hpp"

#include "dfd/wire/bearer.hpp"

namespace dfd::host {

namespace {
constexpr auto kVerdictTtl = std::chrono::seconds(1);
constexpr std::size_t kVerdictCacheMax = 4096;
}  // namespace

TokenVerdict TokenGate::check(std::string_view token, const std::string& uid) {
  if (!wire::is_b64token(token)) return TokenVerdict::kInvalid;
  auto now = std::chrono::steady_clock::now();
  key_.assign(uid);
  key_ += '\n';
  key_.append(token.data(), token.size());
  auto it = verdicts_.find(key_);
  if (it != verdicts_.end()) {
    if (now - it->second < kVerdictTtl) return TokenVerdict::kValid;
    verdicts_.erase(it);
  }
  TokenVerdict v = auth_.verify_download_token(token, uid);
  if (v == TokenVerdict::kValid) {
    if (verdicts_.size() >= kVerdictCacheMax) verdicts_.clear();
    verdicts_.emplace(key_, now);
  }
  return v;
}

}  // namespace dfd::host
