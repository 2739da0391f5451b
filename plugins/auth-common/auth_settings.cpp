#include "auth_settings.hpp"

#include <string>

#include "auth_rules.hpp"
#include "password_kdf.hpp"

namespace dfd::auth_common {

Result<TokenSettings> parse_token_settings(const Config& cfg, Logger& log) {
  TokenSettings s;
  auto ttl = cfg.int_or("token_ttl_s", 3600);
  if (!ttl.ok()) return ttl.status();
  if (*ttl <= 0 || *ttl > kMaxTtl.count()) {
    return cfg.error("token_ttl_s", "must be between 1 and " + std::to_string(kMaxTtl.count()));
  }
  auto uttl = cfg.int_or("user_token_ttl_s", 1209600);
  if (!uttl.ok()) return uttl.status();
  if (*uttl <= 0 || *uttl > kMaxTtl.count()) {
    return cfg.error("user_token_ttl_s",
                     "must be between 1 and " + std::to_string(kMaxTtl.count()));
  }
  auto iters = cfg.int_or("kdf_iterations", 210000);
  if (!iters.ok()) return iters.status();
  if (*iters < 1 || *iters > kMaxKdfIterations) {
    return cfg.error("kdf_iterations", "must be between 1 and 100000000");
  }
  s.token_ttl = std::chrono::seconds(*ttl);
  s.user_token_ttl = std::chrono::seconds(*uttl);
  s.kdf_iterations = *iters;
  if (s.kdf_iterations < 100000) {
    log.warn("kdf_iterations = " + std::to_string(s.kdf_iterations) +
             " is below 100000: passwords are cheap to brute-force (tests only)");
  }
  return s;
}

}  // namespace dfd::auth_common
