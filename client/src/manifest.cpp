#include "manifest.hpp"

#include <type_traits>

#include "hasher.hpp"
#include "util.hpp"

namespace dfd::client {

std::uint64_t Manifest::chunk_length(std::size_t i) const {
  std::uint64_t off = chunk_offset(i);
  if (off >= size) return 0;
  return std::min<std::uint64_t>(chunk_size, size - off);
}

namespace {
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

void read_digest(const nlohmann::json& j, std::string& alg, std::string& value) {
  const auto& d = j.contains("digest") ? j.at("digest") : nlohmann::json();
  if (!d.is_object()) bad("missing 'digest'");
  alg = lower(get<std::string>(d, "alg"));
  value = lower(get<std::string>(d, "value"));
}
}  // namespace

Manifest parse_manifest(const nlohmann::json& j) {
  Manifest m;
  m.id = j.contains("id") && j.at("id").is_number_integer() ? j.at("id").get<std::int64_t>() : 0;
  m.uid = get<std::string>(j, "uid");
  m.name = get<std::string>(j, "name");
  m.size = get<std::uint64_t>(j, "size");
  read_digest(j, m.alg, m.digest);
  if (!Hasher::supported(m.alg)) bad("unsupported digest algorithm '" + m.alg + "'");
  if (!is_hex(m.digest)) bad("whole-file digest is not hex");
  m.chunk_size = get<std::uint64_t>(j, "chunk_size");
  if (m.chunk_size == 0) bad("chunk_size is 0");
  for (const auto& c : get<std::vector<std::string>>(j, "chunks")) {
    if (!is_hex(c) || c.size() != m.digest.size())
      bad("chunk digest is not hex of the right length");
    m.chunks.push_back(lower(c));
  }
  std::uint64_t want = m.size / m.chunk_size + (m.size % m.chunk_size != 0 ? 1 : 0);
  if (m.chunks.size() != want)
    bad("expected " + std::to_string(want) + " chunk digests, got " +
        std::to_string(m.chunks.size()));
  if (j.contains("locations") && j.at("locations").is_array()) {
    for (const auto& l : j.at("locations")) {
      Location loc;
      loc.server_id = get<std::string>(l, "server_id");
      loc.url = get<std::string>(l, "url");
      while (!loc.url.empty() && loc.url.back() == '/') loc.url.pop_back();
      if (l.contains("zone") && l.at("zone").is_string())
        loc.zone = l.at("zone").get<std::string>();
      if (l.contains("healthy") && l.at("healthy").is_boolean())
        loc.healthy = l.at("healthy").get<bool>();
      m.locations.push_back(std::move(loc));
    }
  }
  if (j.contains("download_token") && j.at("download_token").is_string())
    m.download_token = j.at("download_token").get<std::string>();
  if (j.contains("token_expires_at") && j.at("token_expires_at").is_string())
    m.token_expires_at = j.at("token_expires_at").get<std::string>();
  return m;
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
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace dfd::client
