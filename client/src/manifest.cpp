#include "manifest.hpp"

#include "util.hpp"

namespace dfd::client {

namespace {
// A reply the client parsed itself is valid UTF-8; a tree a test built may not be: refused
// like any other invalid text.
std::string text_of(const nlohmann::json& j, const char* what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception&) {
    throw CliError(exit_code::kServer,
                   std::string("the info server sent an invalid ") + what + ": not UTF-8");
  }
}
}  // namespace

Manifest parse_manifest_text(std::string_view bytes) {
  auto m = wire::decode_manifest(bytes);
  if (!m.ok())
    throw CliError(exit_code::kServer,
                   "the info server sent an invalid manifest: " + m.status().message());
  return std::move(m).value();
}

Manifest parse_manifest(const nlohmann::json& j) {
  return parse_manifest_text(text_of(j, "manifest"));
}

std::vector<FileEntry> parse_file_list(const nlohmann::json& j) {
  auto list = wire::decode_file_list(text_of(j, "file list"));
  if (!list.ok())
    throw CliError(exit_code::kServer,
                   "the info server sent an invalid file list: " + list.status().message());
  return std::move(list).value().files;
}

std::string default_output_name(const std::string& name) {
  // A catalog name is a relative path ("videos/movie.bin"); its last component is used. Anything
  // else is refused: an absolute path, an empty, "." or ".." component, control characters.
  bool usable = !name.empty() && name.front() != '/' && is_printable_text(name);
  std::size_t start = 0;
  while (usable) {
    std::size_t slash = name.find('/', start);
    std::string part = name.substr(start, slash == std::string::npos ? slash : slash - start);
    usable = !part.empty() && part != "." && part != ".." && part.size() <= 255;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (!usable)
    throw CliError(exit_code::kUsage, "the file's name \"" + printable(name) +
                                          "\" is not usable as a local file name: give -o PATH");
  return name.substr(start);
}

}  // namespace dfd::client
