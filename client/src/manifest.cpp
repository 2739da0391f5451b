#include "manifest.hpp"

#include <type_traits>

#include "bounded_json.hpp"
#include "dfd/chunks.hpp"
#include "hasher.hpp"
#include "util.hpp"

namespace dfd::client {

std::uint64_t Manifest::chunk_length(std::size_t i) const {
  std::uint64_t off = chunk_offset(i);
  if (off >= size) return 0;
  return std::min<std::uint64_t>(chunk_size, size - off);
}

namespace {
using L = ManifestLimits;

[[noreturn]] void bad(const std::string& what) {
  throw CliError(exit_code::kServer, "the info server sent an invalid manifest: " + what);
}

template <typename T>
T get(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) bad(std::string("missing '") + key + "'");
  // get<integer>() casts any JSON number: a float out of range is undefined behaviour, -1 wraps.
  if constexpr (std::is_integral_v<T>) {
    const auto& v = j.at(key);
    bool fits = v.is_number_integer() && (std::is_signed_v<T> || v.is_number_unsigned() ||
                                          v.template get<std::int64_t>() >= 0);
    if (!fits) bad(std::string("'") + key + "' is not an integer in range");
  }
  try {
    return j.at(key).get<T>();
  } catch (const std::exception&) {
    bad(std::string("bad type for '") + key + "'");
  }
}

// A string field that must be printable text of at most `max` bytes (and not empty unless
// `may_be_empty`).
std::string get_text(const nlohmann::json& j, const char* key, std::size_t max,
                     bool may_be_empty = false) {
  auto v = get<std::string>(j, key);
  if (v.size() > max) bad(std::string("'") + key + "' is longer than " + std::to_string(max));
  if (v.empty() && !may_be_empty) bad(std::string("'") + key + "' is empty");
  if (!is_printable_text(v))
    bad(std::string("'") + key + "' holds control characters: \"" + printable(v) + "\"");
  return v;
}

// An optional string field (absent or not a string = ""), checked like get_text.
std::string optional_text(const nlohmann::json& j, const char* key, std::size_t max) {
  if (!j.contains(key) || !j.at(key).is_string()) return "";
  return get_text(j, key, max, true);
}

void read_digest(const nlohmann::json& j, std::string& alg, std::string& value) {
  const auto& d = j.contains("digest") ? j.at("digest") : nlohmann::json();
  if (!d.is_object()) bad("missing 'digest'");
  alg = lower(get<std::string>(d, "alg"));
  value = lower(get<std::string>(d, "value"));
}

// A digest of `alg` in hex: exactly the algorithm's length.
void check_digest(const std::string& alg, const std::string& hex, const std::string& what) {
  std::size_t want = Hasher::hex_length(alg);
  if (hex.size() != want || !is_hex(hex))
    bad(what + " is not " + std::to_string(want) + " hex digits of " + alg);
}

bool is_http_url(const std::string& url) {
  std::string l = lower(url.substr(0, 8));
  return l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0;
}

Location read_location(const nlohmann::json& l) {
  if (!l.is_object()) bad("a location is not an object");
  Location loc;
  loc.server_id = get_text(l, "server_id", L::kMaxId);
  loc.url = get_text(l, "url", L::kMaxUrl);
  if (!is_http_url(loc.url) || loc.url.find_first_of(" \"<>\\^`{|}") != std::string::npos)
    bad("location '" + loc.server_id + "' has URL '" + loc.url +
        "': only http:// and https:// URLs are allowed");
  while (!loc.url.empty() && loc.url.back() == '/') loc.url.pop_back();
  loc.zone = optional_text(l, "zone", L::kMaxId);
  if (l.contains("healthy") && l.at("healthy").is_boolean())
    loc.healthy = l.at("healthy").get<bool>();
  return loc;
}

void read_chunks(const nlohmann::json& j, Manifest& m) {
  m.chunk_size = get<std::uint64_t>(j, "chunk_size");
  if (m.chunk_size == 0) bad("chunk_size is 0");
  if (m.chunk_size > L::kMaxChunkSize)
    bad("chunk_size " + std::to_string(m.chunk_size) + " is above the limit of " +
        std::to_string(L::kMaxChunkSize));
  if (m.size > L::kMaxSize)
    bad("size " + std::to_string(m.size) + " is above the limit of " + std::to_string(L::kMaxSize));
  std::uint64_t want = dfd::chunk_count(m.size, m.chunk_size);
  if (want > L::kMaxChunks)
    bad(std::to_string(want) + " chunks are above the limit of " + std::to_string(L::kMaxChunks));
  if (!j.contains("chunks") || !j.at("chunks").is_array()) bad("missing 'chunks'");
  const auto& chunks = j.at("chunks");
  if (chunks.size() != want)
    bad("expected " + std::to_string(want) + " chunk digests for " + std::to_string(m.size) +
        " bytes in chunks of " + std::to_string(m.chunk_size) + ", got " +
        std::to_string(chunks.size()));
  m.chunks.reserve(chunks.size());
  for (const auto& c : chunks) {
    if (!c.is_string()) bad("a chunk digest is not a string");
    m.chunks.push_back(lower(c.get<std::string>()));
    check_digest(m.alg, m.chunks.back(), "chunk digest " + std::to_string(m.chunks.size() - 1));
  }
}
}  // namespace

Manifest parse_manifest(const nlohmann::json& j) {
  if (!j.is_object()) bad("not a JSON object");
  Manifest m;
  m.id = j.contains("id") && j.at("id").is_number_integer() ? j.at("id").get<std::int64_t>() : 0;
  m.uid = lower(get<std::string>(j, "uid"));
  if (m.uid.size() > L::kMaxUid || !is_hex(m.uid)) bad("uid is not hex");
  m.name = get_text(j, "name", L::kMaxName);
  m.size = get<std::uint64_t>(j, "size");
  read_digest(j, m.alg, m.digest);
  if (!Hasher::supported(m.alg)) bad("unsupported digest algorithm '" + m.alg + "'");
  check_digest(m.alg, m.digest, "the whole-file digest");
  read_chunks(j, m);
  if (j.contains("locations") && j.at("locations").is_array()) {
    const auto& locs = j.at("locations");
    if (locs.size() > L::kMaxLocations)
      bad(std::to_string(locs.size()) + " locations are above the limit of " +
          std::to_string(L::kMaxLocations));
    for (const auto& l : locs) m.locations.push_back(read_location(l));
  }
  m.download_token = optional_text(j, "download_token", L::kMaxToken);
  if (m.download_token.find_first_of(" \t") != std::string::npos)
    bad("'download_token' holds blanks");
  m.token_expires_at = optional_text(j, "token_expires_at", L::kMaxId);
  return m;
}

Manifest parse_manifest_text(std::string_view bytes) {
  std::string why;
  auto j = parse_bounded_json(bytes, &why);
  if (!j) bad(why);
  return parse_manifest(*j);
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

std::vector<FileEntry> parse_file_list(const nlohmann::json& j) {
  std::vector<FileEntry> out;
  if (!j.is_object() || !j.contains("files") || !j.at("files").is_array())
    throw CliError(exit_code::kServer, "the info server sent an invalid file list");
  for (const auto& f : j.at("files")) {
    FileEntry e;
    e.id = get<std::int64_t>(f, "id");
    e.uid = f.contains("uid") && f.at("uid").is_string() ? f.at("uid").get<std::string>() : "";
    e.name = get<std::string>(f, "name");
    e.size = get<std::uint64_t>(f, "size");
    if (f.contains("digest") && f.at("digest").is_object()) read_digest(f, e.alg, e.digest);
    if (f.contains("available") && f.at("available").is_boolean())
      e.available = f.at("available").get<bool>();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace dfd::client
