// Fuzz target: the client's manifest and file-list parsers (client/src/manifest.*), fed the way
// the client feeds them: the reply body parsed as JSON (no exceptions), then validated.
// Contract: a bad manifest throws CliError and nothing else. Invariants of an accepted manifest:
// size and chunk_size were JSON unsigned integers (no float, no wrapped -1); the chunk digests
// cover exactly `size` bytes (one per chunk_size, the last one partial), every digest is lower-case
// hex of the whole-file digest's length.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "manifest.hpp"
#include "util.hpp"

namespace {

bool lower_hex(const std::string& s) {
  if (s.empty() || s.size() % 2) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// "-0" parses as a signed integer 0.
bool non_negative_integer(const nlohmann::json& v) {
  return v.is_number_integer() && (v.is_number_unsigned() || v.get<std::int64_t>() >= 0);
}

void check_manifest(const nlohmann::json& j) {
  dfd::client::Manifest m;
  try {
    m = dfd::client::parse_manifest(j);
  } catch (const dfd::client::CliError&) {
    return;
  }
  FUZZ_CHECK(non_negative_integer(j.at("size")) && non_negative_integer(j.at("chunk_size")));
  FUZZ_CHECK(m.chunk_size > 0);
  FUZZ_CHECK(lower_hex(m.digest));
  for (const auto& c : m.chunks) FUZZ_CHECK(lower_hex(c) && c.size() == m.digest.size());
  // Exactly ceil(size / chunk_size) chunks, computed without overflow.
  std::uint64_t want = m.size / m.chunk_size + (m.size % m.chunk_size != 0 ? 1 : 0);
  FUZZ_CHECK(m.chunk_count() == want);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < m.chunk_count(); ++i) {
    std::uint64_t n = m.chunk_length(i);
    FUZZ_CHECK(n > 0 && n <= m.chunk_size);
    total += n;
  }
  FUZZ_CHECK(total == m.size);
}

void check_file_list(const nlohmann::json& j) {
  try {
    dfd::client::parse_file_list(j);
  } catch (const dfd::client::CliError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  check_manifest(j);
  check_file_list(j);
  return 0;
}
