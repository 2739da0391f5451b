#include "content/token_gate.hpp"

#include "content/http_request.hpp"

namespace dfd::host {

namespace {
constexpr auto kVerdictTtl = std::chrono::seconds(1);
constexpr std::size_t kVerdictCacheMax = 4096;
}  // namespace

std::string_view bearer_token(std::string_view v) noexcept {
  if (v.size() < 7 || !ascii_iequals(v.substr(0, 6), "bearer") || (v[6] != ' ' && v[6] != '\t')) {
    return {};
  }
  v.remove_prefix(7);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  for (char ch : v) {
    if (ch == ' ' || ch == '\t') return {};
  }
  return v;
}

bool plausible_token(std::string_view t) noexcept {
  if (t.empty() || t.size() > kMaxTokenBytes) return false;
  std::size_t i = 0;
  for (; i < t.size(); ++i) {
    char c = t[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < t.size(); ++i) {
    if (t[i] != '=') return false;
  }
  return true;
}

TokenVerdict TokenGate::check(std::string_view token, const std::string& uid) {
  if (!plausible_token(token)) return TokenVerdict::kInvalid;
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
