// dfd wire library: the manifest and file-list codec, the one home of the JSON the info server
// sends and the client reads (docs/api.md "Files", docs/contracts.md "Manifest"):
//
//   GET /v1/files          {"files":[FileSummary + "available"], "total":N}
//                          encode_file_list / append_file_list_*     decode_file_list
//   GET /v1/files/{id}     Manifest                                  decode_manifest
//                          encode_manifest = append_chunked_file_fields (cacheable)
//                                          + append_manifest_tail (per request)
//   a file index           {"files":[ChunkedFile without id/uid]}    decode_file_index
//   (storage-http origin)  encode_file_index
//
// Every field name and every JSON escape is written here and nowhere else. The encoders write
// compact JSON with the fields in a fixed order (what info servers have always sent, so old clients
// keep working); strings are escaped as JSON requires (", \, control characters) and otherwise
// copied byte for byte (UTF-8 passes unchanged; invalid UTF-8 becomes U+FFFD).
//
// The decoders read untrusted bytes (a hostile info server, a --manifest file, an origin's index
// file): the text is parsed within json_limits.hpp's bounds and every field is checked against
// ManifestLimits; any failure is a Status (kInvalidArgument) with a plain message naming the
// field, never an exception, never a partial value.
//
// Thread-safety: values and pure functions; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dfd/status.hpp"
#include "dfd/wire/bearer.hpp"

namespace dfd::wire {

// Limits on what a manifest, file list or file index may say. Strings are also refused when they
// hold control characters (is_printable_text in text.hpp): NUL, ESC, BEL, newline, DEL, C1,
// bidirectional overrides.
struct ManifestLimits {
  static constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 50;       // 1 PiB, fits off_t
  static constexpr std::uint64_t kMaxChunkSize = std::uint64_t{1} << 30;  // 1 GiB
  static constexpr std::size_t kMaxChunks = std::size_t{1} << 20;         // digests per file
  static constexpr std::size_t kMaxLocations = 64;
  static constexpr std::size_t kMaxName = 4096;  // bytes, as the info server allows
  static constexpr std::size_t kMaxId = 256;     // server_id, zone, alg, token_expires_at
  static constexpr std::size_t kMaxUid = 256;    // hex characters
  static constexpr std::size_t kMaxUrl = 2048;
  static constexpr std::size_t kMaxToken = kMaxBearerTokenBytes;  // what the data plane takes
  // The number of rows of a list or entries of an index is bounded by JsonLimits::kMaxValues.
};

// Where a file can be downloaded: one file server holding it.
struct Location {
  std::string server_id;
  std::string zone;
  std::string url;  // base URL, http:// or https://, no trailing slash after decoding
  bool healthy = true;

  bool operator==(const Location& o) const;
};

// One row of GET /v1/files, and the head of every manifest.
struct FileSummary {
  std::int64_t id = 0;  // catalog id (0 when the document has none: a file index)
  std::string uid;      // lower-case hex (the info server's uid is the whole-file digest)
  std::string name;     // catalog name, a relative path ("videos/a.bin")
  std::uint64_t size = 0;
  std::string alg;     // sha256 | sha512 | sha3-256 | blake2b-512 (lower case)
  std::string digest;  // whole-file digest, lower-case hex
  // List rows only: at least one file server holding it is live; nullopt when not said (and
  // always in a manifest, whose locations say it).
  std::optional<bool> available;

  bool operator==(const FileSummary& o) const;
};

// A file with its chunk digests: the catalog part of a manifest (what an info server can render
// once per file and cache) and one entry of a file index.
struct ChunkedFile : FileSummary {
  std::uint64_t chunk_size = 0;
  std::vector<std::string> chunks;  // lower-case hex, one per chunk, ceil(size / chunk_size)

  std::size_t chunk_count() const { return chunks.size(); }
  std::uint64_t chunk_offset(std::size_t i) const { return chunk_size * i; }
  // Bytes of chunk i (the last one may be short); 0 past the end.
  std::uint64_t chunk_length(std::size_t i) const;

  bool operator==(const ChunkedFile& o) const;
};

// GET /v1/files/{id}: the file, where to get it and the download token for it.
struct Manifest : ChunkedFile {
  std::vector<Location> locations;
  std::string download_token;    // a secret: never log it
  std::string token_expires_at;  // RFC 3339, as the info server wrote it

  bool operator==(const Manifest& o) const;
};

// GET /v1/files?limit&offset: one page.
struct FileList {
  std::vector<FileSummary> files;
  std::optional<std::uint64_t> total;  // all files in the catalog; nullopt when not said
};

// ---------------------------------------------------------------------------------------------
// Decoders: untrusted JSON text in, a checked value or kInvalidArgument out.

// A manifest. Checks: an object; "uid" hex (<= kMaxUid); "name" printable, not empty,
// <= kMaxName; "size" and "chunk_size" JSON unsigned integers (no float, no -1), size <= kMaxSize,
// 0 < chunk_size <= kMaxChunkSize; "digest":{"alg","value"} with a known algorithm and a value of
// exactly its hex length; "chunks" exactly chunk_count(size, chunk_size) <= kMaxChunks strings,
// each hex of that length; "locations" (optional) at most kMaxLocations objects, each with a
// printable "server_id" and an http:// or https:// "url" (<= kMaxUrl, no blanks, quotes, <>\^`{|}),
// optional "zone" and boolean "healthy"; optional "download_token" (printable, no blanks,
// <= kMaxToken) and "token_expires_at". "id" is optional (0). Hex values are lower-cased; a URL's
// trailing slashes are removed. The message names the field, e.g. "'chunk_size' is 0".
Result<Manifest> decode_manifest(std::string_view json);

// A file list page: {"files":[{id, uid?, name, size, digest?, available?}], "total"?}. "id"
// integer, "name" a string, "size" unsigned; "uid", "digest" and "available" are taken when they
// have the right type ("uid" as sent; "digest" values lower-cased).
Result<FileList> decode_file_list(std::string_view json);

// A file index (e.g. storage-http's origin index, docs/storage-http.md):
//   {"files":[{"name":..,"size":..,"digest":{"alg":..,"value":..},"chunk_size":..,"chunks":[..]}]}
// the same fields and checks as a manifest (no locations, no token; "id" and "uid" optional:
// uid defaults to the digest value). Names must be unique.
Result<std::vector<ChunkedFile>> decode_file_index(std::string_view json);

// ---------------------------------------------------------------------------------------------
// Encoders. Appending forms exist for servers that cache parts of a reply; every one writes
// compact JSON, fields in this order: id, uid, name, size, digest{alg, value}, [available],
// chunk_size, chunks, locations[{server_id, zone, url, healthy}], download_token,
// token_expires_at.

// {"id":..,"uid":..,"name":..,"size":..,"digest":{"alg":..,"value":..}   (object left open)
void append_file_summary_fields(std::string& out, const FileSummary& f);
// The above + ,"chunk_size":..,"chunks":[..]   (object left open: the cacheable manifest part)
void append_chunked_file_fields(std::string& out, const ChunkedFile& f);
// ,"locations":[..],"download_token":..,"token_expires_at":..}   (closes the manifest)
void append_manifest_tail(std::string& out, const std::vector<Location>& locations,
                          std::string_view download_token, std::string_view token_expires_at);
// The whole manifest: append_chunked_file_fields + append_manifest_tail.
std::string encode_manifest(const Manifest& m);
// A manifest without locations and token: append_chunked_file_fields, closed (decode_manifest
// reads it back: a --manifest file, a test server's catalog).
std::string encode_chunked_file(const ChunkedFile& f);

// A list page from rows rendered by append_file_summary_fields (possibly cached):
//   append_file_list_begin(out);  for each row: append_file_list_row(out, i == 0, fields, avail);
//   append_file_list_end(out, total);
void append_file_list_begin(std::string& out);
void append_file_list_row(std::string& out, bool first, std::string_view summary_fields,
                          std::optional<bool> available);
void append_file_list_end(std::string& out, std::optional<std::uint64_t> total);
std::string encode_file_list(const FileList& list);

// {"files":[{name,size,digest,chunk_size,chunks}, ..]} (id and uid are not written).
std::string encode_file_index(const std::vector<ChunkedFile>& files);

// A JSON string literal for `s`: quoted, with ", \ and control characters escaped (\b \f \n \r
// \t, others \u00XX), everything else copied; invalid UTF-8 bytes become U+FFFD.
void append_json_string(std::string& out, std::string_view s);

// Hex length of a digest of `alg` (sha256/sha-256 64, sha512/sha-512 128, sha3-256 64,
// blake2b-512/blake2b512 128; any case); 0 for an algorithm the manifest format does not know.
std::size_t digest_hex_length(std::string_view alg);

}  // namespace dfd::wire
