// The info server's answers as the client sees them: the wire library's types and decoders
// (dfd/wire/manifest.hpp, docs/contracts.md), with the client's error handling (CliError).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dfd/wire/manifest.hpp"

namespace dfd::client {

using Location = wire::Location;
using Manifest = wire::Manifest;
using ManifestLimits = wire::ManifestLimits;
using FileEntry = wire::FileSummary;  // one row of GET /v1/files

// wire::decode_manifest on the raw bytes of the JSON text (an info server reply or a --manifest
// file); every refusal is a CliError(kServer) "the info server sent an invalid manifest: <why>".
// A pure function of `bytes`: no I/O, no global state, thread-safe.
Manifest parse_manifest_text(std::string_view bytes);

// The same for a reply already parsed (InfoApi::call).
Manifest parse_manifest(const nlohmann::json& j);

// wire::decode_file_list of one page; CliError(kServer) "the info server sent an invalid file
// list: <why>".
std::vector<FileEntry> parse_file_list(const nlohmann::json& j);

// The file name to use when `dfd get` has no -o: the last component of the catalog name (a
// relative path such as "videos/movie.bin" gives "movie.bin"). A name that is a path traversal or
// not a clean relative path is refused (CliError kUsage, "give -o PATH"): absolute, an empty,
// "." or ".." component, a component over 255 bytes, control characters.
std::string default_output_name(const std::string& name);

}  // namespace dfd::client
