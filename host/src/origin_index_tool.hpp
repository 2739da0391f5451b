// `dfd-host index --root DIR --output FILE [--chunk-size 4MiB] [--alg sha256]`: writes the file
// index a storage-http origin publishes (docs/storage-http.md "The index"): every servable file
// under DIR (storage-fs rules: no dot names, nothing outside DIR, no symbolic links) with its size,
// whole-file digest and chunk digests.
//
// One home for the hashing: the tool runs the content index (content/content_index.hpp) over the
// storage-fs and digest-openssl plugins, loaded through the host's own loader, so the digests are
// exactly those a file server would compute. The output is written to FILE.tmp and renamed; FILE
// itself, when it sits under DIR, is a dot-less name the index would list: name it so that it is
// skipped (the tool leaves FILE out of the index it writes).
#pragma once

#include <cstdint>
#include <string>

#include "dfd/status.hpp"

namespace dfd::host {

struct OriginIndexOptions {
  std::string root;
  std::string output;
  std::string alg = "sha256";
  std::uint64_t chunk_size = 4 * 1024 * 1024;
};

// "4194304", "64KiB", "4MiB", "1GiB" (also K, M, G): bytes; kInvalidArgument otherwise.
Result<std::uint64_t> parse_byte_size(const std::string& text);

// Writes the index; returns how many files it lists.
Result<std::size_t> write_origin_index(const OriginIndexOptions& options);

}  // namespace dfd::host
