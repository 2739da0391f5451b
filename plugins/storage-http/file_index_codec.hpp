// storage-http: the origin's file index (index.json), one encoder and one decoder.
//
// NOTE (issue 15): a stand-in for `dfd::wire::encode_file_index` / `decode_file_index` of
// sdk/include/dfd/wire/manifest.hpp (branch i15-wiremanifest), written against the same names so
// that switching is an include and a namespace. Both sides use this header: the plugin (decoder)
// and `dfd-host index` (encoder). It goes away when the wire library's codec lands.
//
// Format (UTF-8 JSON, the manifest's field names):
//   {"files": [{"name": "videos/a.mp4", "size": 9000000,
//               "digest": {"alg": "sha256", "value": "<hex>"}, "chunk_size": 4194304,
//               "chunks": ["<hex>", "<hex>", "<hex>"]}]}
// `chunks` has exactly dfd::chunk_count(size, chunk_size) lower-case hex digests (an empty file:
// none). Names are checked by the plugin (dfd::is_safe_relative_path), not here, as the wire
// decoder does not know they are paths.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dfd/chunks.hpp"
#include "dfd/status.hpp"
#include "dfd/storage.hpp"

namespace dfd::storage_http {

// The fields of dfd::wire::ChunkedFile an index carries.
struct ChunkedFile {
  std::string name;
  std::uint64_t size = 0;
  std::string alg;
  std::string digest;
  std::uint64_t chunk_size = 0;
  std::vector<std::string> chunks;
};

// dfd::wire's bounds (JsonLimits::kMaxBytes, ManifestLimits).
struct FileIndexLimits {
  static constexpr std::size_t kMaxBytes = std::size_t{16} << 20;
  static constexpr std::size_t kMaxFiles = std::size_t{1} << 20;
  static constexpr std::uint64_t kMaxChunkSize = std::uint64_t{1} << 30;
  static constexpr std::size_t kMaxChunks = std::size_t{1} << 20;  // per file
};

inline std::string encode_file_index(const std::vector<ChunkedFile>& files) {
  nlohmann::json out = nlohmann::json::array();
  for (const ChunkedFile& f : files) {
    out.push_back({{"name", f.name},
                   {"size", f.size},
                   {"digest", {{"alg", f.alg}, {"value", f.digest}}},
                   {"chunk_size", f.chunk_size},
                   {"chunks", f.chunks}});
  }
  return nlohmann::json{{"files", std::move(out)}}.dump();
}

namespace detail {
inline bool is_lower_hex(const std::string& s) {
  if (s.empty() || s.size() > 256 || s.size() % 2 != 0) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
inline bool is_alg_name(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}
}  // namespace detail

// The index in `text`, or kInvalidArgument with a message naming the entry
// ("index: files[3] ('a.bin'): 'chunks' has 2 digests, size 10 needs 1"). Never throws.
inline Result<std::vector<ChunkedFile>> decode_file_index(std::string_view text) noexcept {
  using L = FileIndexLimits;
  if (text.size() > L::kMaxBytes) {
    return Status::InvalidArgument("larger than 16 MiB");
  }
  return guard("index", [&]() -> Result<std::vector<ChunkedFile>> {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded()) return Status::InvalidArgument("index is not valid JSON");
    if (!doc.is_object()) return Status::InvalidArgument("index is not a JSON object");
    auto files = doc.find("files");
    if (files == doc.end() || !files->is_array()) {
      return Status::InvalidArgument("index: 'files' must be an array");
    }
    if (files->size() > L::kMaxFiles) {
      return Status::InvalidArgument("index lists more than " + std::to_string(L::kMaxFiles) +
                                     " files");
    }
    std::vector<ChunkedFile> out;
    out.reserve(files->size());
    std::set<std::string> names;
    for (std::size_t i = 0; i < files->size(); ++i) {
      const nlohmann::json& j = (*files)[i];
      std::string where = "index: files[" + std::to_string(i) + "]";
      if (!j.is_object()) return Status::InvalidArgument(where + " is not an object");
      auto str = [&](const char* key, std::string& to) -> Status {
        auto it = j.find(key);
        if (it == j.end() || !it->is_string()) {
          return Status::InvalidArgument(where + ": '" + key + "' must be a string");
        }
        to = it->get<std::string>();
        return Status::Ok();
      };
      auto num = [&](const char* key, std::uint64_t& to) -> Status {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number_unsigned()) {
          return Status::InvalidArgument(where + ": '" + key + "' must be a non-negative integer");
        }
        to = it->get<std::uint64_t>();
        return Status::Ok();
      };
      ChunkedFile f;
      DFD_RETURN_IF_ERROR(str("name", f.name));
      if (f.name.empty() || f.name.size() > 4096) {
        return Status::InvalidArgument(where + ": 'name' is empty or too long");
      }
      where += " ('" + f.name + "')";
      if (!names.insert(f.name).second) return Status::InvalidArgument(where + " is listed twice");
      DFD_RETURN_IF_ERROR(num("size", f.size));
      auto digest = j.find("digest");
      if (digest == j.end() || !digest->is_object()) {
        return Status::InvalidArgument(where + ": 'digest' must be {\"alg\", \"value\"}");
      }
      auto alg = digest->find("alg");
      auto value = digest->find("value");
      if (alg == digest->end() || !alg->is_string() || value == digest->end() ||
          !value->is_string()) {
        return Status::InvalidArgument(where + ": 'digest' must be {\"alg\", \"value\"}");
      }
      f.alg = alg->get<std::string>();
      f.digest = value->get<std::string>();
      if (!detail::is_alg_name(f.alg)) {
        return Status::InvalidArgument(where + ": 'digest.alg' is not an algorithm name");
      }
      if (!detail::is_lower_hex(f.digest)) {
        return Status::InvalidArgument(where + ": 'digest' is not lower-case hex");
      }
      DFD_RETURN_IF_ERROR(num("chunk_size", f.chunk_size));
      if (f.chunk_size == 0 || f.chunk_size > L::kMaxChunkSize) {
        return Status::InvalidArgument(where + ": 'chunk_size' must be 1.." +
                                       std::to_string(L::kMaxChunkSize));
      }
      auto chunks = j.find("chunks");
      if (chunks == j.end() || !chunks->is_array()) {
        return Status::InvalidArgument(where + ": 'chunks' must be an array");
      }
      const std::uint64_t want = chunk_count(f.size, f.chunk_size);
      if (chunks->size() != want) {
        return Status::InvalidArgument(where + ": 'chunks' has " + std::to_string(chunks->size()) +
                                       " digests, size " + std::to_string(f.size) + " needs " +
                                       std::to_string(want));
      }
      if (chunks->size() > L::kMaxChunks) {
        return Status::InvalidArgument(where + ": more than " + std::to_string(L::kMaxChunks) +
                                       " chunks");
      }
      f.chunks.reserve(chunks->size());
      for (const nlohmann::json& c : *chunks) {
        if (!c.is_string() || !detail::is_lower_hex(c.get<std::string>()) ||
            c.get<std::string>().size() != f.digest.size()) {
          return Status::InvalidArgument(where +
                                         ": a chunk digest is not hex of the file "
                                         "digest's length");
        }
        f.chunks.push_back(c.get<std::string>());
      }
      out.push_back(std::move(f));
    }
    return out;
  });
}

}  // namespace dfd::storage_http
