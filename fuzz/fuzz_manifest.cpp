// Fuzz target: the wire library's manifest, file-list and file-index decoders
// (dfd/wire/manifest.hpp), fed raw bytes the way the client and storage-http feed them.
// Contract: a bad document is a Status, never an exception or a crash. Invariants of an accepted
// manifest: size and chunk_size were JSON unsigned integers (no float, no wrapped -1); the chunk
// digests cover exactly `size` bytes (one per chunk_size, the last one partial), every digest is
// lower-case hex of the whole-file digest's length. Round trips: what the encoders write for an
// accepted value decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dfd/wire/manifest.hpp"
#include "fuzz_check.hpp"

namespace {

namespace wire = dfd::wire;

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

void check_chunks(const wire::ChunkedFile& m) {
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

void check_manifest(std::string_view text) {
  auto m = wire::decode_manifest(text);
  if (!m.ok()) return;
  auto j = nlohmann::json::parse(text.begin(), text.end());
  FUZZ_CHECK(non_negative_integer(j.at("size")) && non_negative_integer(j.at("chunk_size")));
  check_chunks(*m);
  auto back = wire::decode_manifest(wire::encode_manifest(*m));
  FUZZ_CHECK(back.ok() && *back == *m);
}

void check_file_list(std::string_view text) {
  auto l = wire::decode_file_list(text);
  if (!l.ok()) return;
  auto back = wire::decode_file_list(wire::encode_file_list(*l));
  FUZZ_CHECK(back.ok() && back->files == l->files && back->total == l->total);
}

void check_file_index(std::string_view text) {
  auto files = wire::decode_file_index(text);
  if (!files.ok()) return;
  for (auto& f : *files) {
    check_chunks(f);
    f.id = 0;  // the index does not carry id and uid: they decode as 0 and the digest
    f.uid = f.digest;
  }
  auto back = wire::decode_file_index(wire::encode_file_index(*files));
  FUZZ_CHECK(back.ok() && *back == *files);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_manifest(text);
  check_file_list(text);
  check_file_index(text);
  return 0;
}
