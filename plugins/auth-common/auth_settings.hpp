// dfd_auth_common — the config keys a stored-token auth plugin takes besides its store's:
//   token_ttl_s        download-token ttl when the caller passes ttl <= 0 (default 3600)
//   user_token_ttl_s   user-token ttl when the caller passes ttl <= 0 (default 1209600, 14 days)
//   kdf_iterations     PBKDF2 iterations for NEW passwords (default 210000; below 100000 is
//                      accepted with a warning: tests only)
// A plugin lists them with its own: cfg.allow_only({"db", DFD_AUTH_TOKEN_KEYS}).
#pragma once

#include <chrono>
#include <cstdint>

#include "dfd/host_services.hpp"

#define DFD_AUTH_TOKEN_KEYS "token_ttl_s", "user_token_ttl_s", "kdf_iterations"

namespace dfd::auth_common {

struct TokenSettings {
  std::chrono::seconds token_ttl{3600};
  std::chrono::seconds user_token_ttl{1209600};
  std::int64_t kdf_iterations = 210000;
};

// Errors name file:line:key. Logs the low-iterations warning through `log`.
Result<TokenSettings> parse_token_settings(const Config& cfg, Logger& log);

}  // namespace dfd::auth_common
