// Fuzz target: the host's config loader (host/src/config.hpp parse_host_config: TOML text →
// HostConfig, ${VAR} expansion, validation) and the dfd::Config view plugins read it through.
// Contract: never throws, not even inside (errors are a Status naming the file). Invariants of an
// accepted config: the [server] values are inside their documented ranges; every typed getter of
// every plugin key answers without throwing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config.hpp"
#include "fuzz_check.hpp"

namespace {

void read_every_key(const dfd::host::HostConfig& cfg) {
  for (const auto& entry : cfg.plugins) {
    FUZZ_CHECK(entry.table != nullptr);
    dfd::host::TomlConfig c(cfg.file, entry);
    (void)c.source();
    for (const auto& key : c.keys()) {
      FUZZ_CHECK(c.has(key));
      (void)c.get_string(key);
      (void)c.get_int(key);
      (void)c.get_double(key);
      (void)c.get_bool(key);
      (void)c.get_string_list(key);
      (void)c.error(key, "fuzz");
    }
    FUZZ_CHECK(!c.get_string("no-such-key").ok());
    (void)c.allow_only({"db", "url"});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = dfd::host::parse_host_config(text, "fuzz.toml");
  if (!cfg.ok()) {
    FUZZ_CHECK(cfg.status().code() != dfd::Code::kInternal);  // an exception escaped the parser
    FUZZ_CHECK(cfg.status().message().rfind("fuzz.toml", 0) == 0 ||
               cfg.status().message().rfind("config fuzz.toml", 0) == 0);
    return 0;
  }
  const auto& s = cfg->server;
  FUZZ_CHECK(!s.id.empty() && !s.state_dir.empty());
  FUZZ_CHECK(s.threads >= 1 && s.threads <= 256);
  FUZZ_CHECK(s.shutdown_grace_ms >= 0 && s.shutdown_grace_ms <= 3600 * 1000);
  FUZZ_CHECK(cfg->root != nullptr);
  read_every_key(*cfg);
  return 0;
}
