// dfd wire library: the manifest and file-list codec (dfd/wire/manifest.hpp).
#include "dfd/wire/manifest.hpp"

#include <algorithm>
#include <charconv>
#include <type_traits>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "dfd/chunks.hpp"
#include "dfd/utf8.hpp"
#include "dfd/wire/json_limits.hpp"
#include "dfd/wire/text.hpp"

namespace dfd::wire {

bool Location::operator==(const Location& o) const {
  return server_id == o.server_id && zone == o.zone && url == o.url && healthy == o.healthy;
}

bool FileSummary::operator==(const FileSummary& o) const {
  return id == o.id && uid == o.uid && name == o.name && size == o.size && alg == o.alg &&
         digest == o.digest && available == o.available;
}

bool ChunkedFile::operator==(const ChunkedFile& o) const {
  return FileSummary::operator==(o) && chunk_size == o.chunk_size && chunks == o.chunks;
}

bool Manifest::operator==(const Manifest& o) const {
  return ChunkedFile::operator==(o) && locations == o.locations &&
         download_token == o.download_token && token_expires_at == o.token_expires_at;
}

std::uint64_t ChunkedFile::chunk_length(std::size_t i) const {
  std::uint64_t off = chunk_offset(i);
  if (off >= size) return 0;
  return std::min<std::uint64_t>(chunk_size, size - off);
}

std::size_t digest_hex_length(std::string_view alg) {
  std::string a(alg);
  for (auto& c : a) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (a == "sha256" || a == "sha-256" || a == "sha3-256") return 64;
  if (a == "sha512" || a == "sha-512" || a == "blake2b-512" || a == "blake2b512") return 128;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Decoding

namespace {
using json = nlohmann::json;
using L = ManifestLimits;

// Thrown inside the decoders only; every decoder turns it into a Status.
struct Invalid {
  std::string what;
};

[[noreturn]] void bad(std::string what) {
  throw Invalid{std::move(what)};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

bool is_hex(std::string_view s) {
  if (s.empty() || s.size() % 2) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

template <typename T>
T get(const json& j, const char* key) {
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
std::string get_text(const json& j, const char* key, std::size_t max, bool may_be_empty = false) {
  auto v = get<std::string>(j, key);
  if (v.size() > max) bad(std::string("'") + key + "' is longer than " + std::to_string(max));
  if (v.empty() && !may_be_empty) bad(std::string("'") + key + "' is empty");
  if (!is_printable_text(v))
    bad(std::string("'") + key + "' holds control characters: \"" + printable(v) + "\"");
  return v;
}

// An optional string field (absent or not a string = ""), checked like get_text.
std::string optional_text(const json& j, const char* key, std::size_t max) {
  if (!j.contains(key) || !j.at(key).is_string()) return "";
  return get_text(j, key, max, true);
}

void read_digest(const json& j, std::string& alg, std::string& value) {
  const auto& d = j.contains("digest") ? j.at("digest") : json();
  if (!d.is_object()) bad("missing 'digest'");
  alg = lower(get<std::string>(d, "alg"));
  value = lower(get<std::string>(d, "value"));
}

// A digest of `alg` in hex: exactly the algorithm's length.
void check_digest(const std::string& alg, const std::string& hex, const std::string& what) {
  std::size_t want = digest_hex_length(alg);
  if (hex.size() != want || !is_hex(hex))
    bad(what + " is not " + std::to_string(want) + " hex digits of " + alg);
}

bool is_http_url(const std::string& url) {
  std::string l = lower(url.substr(0, 8));
  return l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0;
}

Location read_location(const json& l) {
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

void read_chunks(const json& j, ChunkedFile& f) {
  f.chunk_size = get<std::uint64_t>(j, "chunk_size");
  if (f.chunk_size == 0) bad("chunk_size is 0");
  if (f.chunk_size > L::kMaxChunkSize)
    bad("chunk_size " + std::to_string(f.chunk_size) + " is above the limit of " +
        std::to_string(L::kMaxChunkSize));
  if (f.size > L::kMaxSize)
    bad("size " + std::to_string(f.size) + " is above the limit of " + std::to_string(L::kMaxSize));
  std::uint64_t want = dfd::chunk_count(f.size, f.chunk_size);
  if (want > L::kMaxChunks)
    bad(std::to_string(want) + " chunks are above the limit of " + std::to_string(L::kMaxChunks));
  if (!j.contains("chunks") || !j.at("chunks").is_array()) bad("missing 'chunks'");
  const auto& chunks = j.at("chunks");
  if (chunks.size() != want)
    bad("expected " + std::to_string(want) + " chunk digests for " + std::to_string(f.size) +
        " bytes in chunks of " + std::to_string(f.chunk_size) + ", got " +
        std::to_string(chunks.size()));
  f.chunks.reserve(chunks.size());
  for (const auto& c : chunks) {
    if (!c.is_string()) bad("a chunk digest is not a string");
    f.chunks.push_back(lower(c.get<std::string>()));
    check_digest(f.alg, f.chunks.back(), "chunk digest " + std::to_string(f.chunks.size() - 1));
  }
}

// name, size, digest, chunk_size, chunks: what a manifest and a file index entry share.
void read_chunked_file(const json& j, ChunkedFile& f) {
  f.name = get_text(j, "name", L::kMaxName);
  f.size = get<std::uint64_t>(j, "size");
  read_digest(j, f.alg, f.digest);
  if (digest_hex_length(f.alg) == 0) bad("unsupported digest algorithm '" + f.alg + "'");
  check_digest(f.alg, f.digest, "the whole-file digest");
  read_chunks(j, f);
}

std::string read_uid(const json& j) {
  std::string uid = lower(get<std::string>(j, "uid"));
  if (uid.size() > L::kMaxUid || !is_hex(uid)) bad("uid is not hex");
  return uid;
}

std::int64_t optional_id(const json& j) {
  return j.contains("id") && j.at("id").is_number_integer() ? j.at("id").get<std::int64_t>() : 0;
}

Manifest read_manifest(const json& j) {
  if (!j.is_object()) bad("not a JSON object");
  Manifest m;
  m.id = optional_id(j);
  m.uid = read_uid(j);
  read_chunked_file(j, m);
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

// The "files" array of a list or index document (its length bounded by JsonLimits).
const json& files_of(const json& j, const char* what) {
  if (!j.is_object() || !j.contains("files") || !j.at("files").is_array())
    bad(std::string("not a ") + what + " (no 'files' array)");
  return j.at("files");
}

FileList read_file_list(const json& j) {
  FileList list;
  for (const auto& f : files_of(j, "file list")) {
    FileSummary e;
    e.id = get<std::int64_t>(f, "id");
    e.uid = f.contains("uid") && f.at("uid").is_string() ? f.at("uid").get<std::string>() : "";
    e.name = get<std::string>(f, "name");
    e.size = get<std::uint64_t>(f, "size");
    if (f.contains("digest") && f.at("digest").is_object()) read_digest(f, e.alg, e.digest);
    if (f.contains("available") && f.at("available").is_boolean())
      e.available = f.at("available").get<bool>();
    list.files.push_back(std::move(e));
  }
  if (j.contains("total") && j.at("total").is_number_unsigned())
    list.total = j.at("total").get<std::uint64_t>();
  return list;
}

std::vector<ChunkedFile> read_file_index(const json& j) {
  std::vector<ChunkedFile> out;
  std::unordered_set<std::string> names;
  for (const auto& e : files_of(j, "file index")) {
    if (!e.is_object()) bad("a file index entry is not an object");
    ChunkedFile f;
    f.id = optional_id(e);
    read_chunked_file(e, f);
    f.uid = e.contains("uid") ? read_uid(e) : f.digest;
    if (!names.insert(f.name).second) bad("the name '" + printable(f.name) + "' is listed twice");
    out.push_back(std::move(f));
  }
  return out;
}

// Parses `text` within JsonLimits and runs `read` on the tree; every failure becomes a Status.
template <typename Read>
auto decode(std::string_view text, Read read) -> Result<decltype(read(json()))> {
  using R = Result<decltype(read(json()))>;
  if (Status st = check_json_limits(text); !st.ok()) return R(st);
  try {
    return R(read(json::parse(text.begin(), text.end())));
  } catch (const Invalid& e) {
    return R(Status::InvalidArgument(e.what));
  } catch (const std::bad_alloc&) {
    return R(Status::ResourceExhausted("out of memory"));
  } catch (const std::exception&) {
    return R(Status::InvalidArgument("not JSON"));
  }
}
}  // namespace

Result<Manifest> decode_manifest(std::string_view text) {
  return decode(text, read_manifest);
}

Result<FileList> decode_file_list(std::string_view text) {
  return decode(text, read_file_list);
}

Result<std::vector<ChunkedFile>> decode_file_index(std::string_view text) {
  return decode(text, read_file_index);
}

// ---------------------------------------------------------------------------------------------
// Encoding

namespace {
template <typename Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_bool(std::string& out, bool v) {
  out += v ? "true" : "false";
}

// `,"key":` (or without the comma for the first field).
void append_key(std::string& out, const char* key, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":";
}

// `,"key":value` for each kind of value.
void text_field(std::string& out, const char* key, std::string_view v, bool first = false) {
  append_key(out, key, first);
  append_json_string(out, v);
}
template <typename Int>
void int_field(std::string& out, const char* key, Int v, bool first = false) {
  append_key(out, key, first);
  append_int(out, v);
}
void bool_field(std::string& out, const char* key, bool v) {
  append_key(out, key);
  append_bool(out, v);
}
}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  const std::size_t start = out.size();
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::uint32_t cp = 0;
      std::size_t n = utf8::sequence(s, i, cp);
      if (n == 0) {
        // Invalid UTF-8: nlohmann's replacement rule (U+FFFD per maximal bad subsequence), which
        // info servers have always applied.
        out.resize(start);
        out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
        return;
      }
      out.append(s.data() + i, n);
      i += n;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

namespace {
// ,"digest":{"alg":..,"value":..}
void append_digest(std::string& out, const FileSummary& f) {
  append_key(out, "digest");
  out += '{';
  text_field(out, "alg", f.alg, true);
  text_field(out, "value", f.digest);
  out += '}';
}

// ,"chunk_size":..,"chunks":[..]
void append_chunks(std::string& out, const ChunkedFile& f) {
  int_field(out, "chunk_size", f.chunk_size);
  append_key(out, "chunks");
  out += '[';
  for (std::size_t i = 0; i < f.chunks.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, f.chunks[i]);
  }
  out += ']';
}
}  // namespace

void append_file_summary_fields(std::string& out, const FileSummary& f) {
  out += '{';
  int_field(out, "id", f.id, true);
  text_field(out, "uid", f.uid);
  text_field(out, "name", f.name);
  int_field(out, "size", f.size);
  append_digest(out, f);
}

void append_chunked_file_fields(std::string& out, const ChunkedFile& f) {
  append_file_summary_fields(out, f);
  append_chunks(out, f);
}

void append_manifest_tail(std::string& out, const std::vector<Location>& locations,
                          std::string_view download_token, std::string_view token_expires_at) {
  append_key(out, "locations");
  out += '[';
  for (std::size_t i = 0; i < locations.size(); ++i) {
    const Location& l = locations[i];
    if (i) out += ',';
    out += '{';
    text_field(out, "server_id", l.server_id, true);
    text_field(out, "zone", l.zone);
    text_field(out, "url", l.url);
    bool_field(out, "healthy", l.healthy);
    out += '}';
  }
  out += ']';
  text_field(out, "download_token", download_token);
  text_field(out, "token_expires_at", token_expires_at);
  out += '}';
}

std::string encode_manifest(const Manifest& m) {
  std::string out;
  out.reserve(256 + m.name.size() + m.chunks.size() * (m.digest.size() + 3) +
              m.locations.size() * 128 + m.download_token.size());
  append_chunked_file_fields(out, m);
  append_manifest_tail(out, m.locations, m.download_token, m.token_expires_at);
  return out;
}

std::string encode_chunked_file(const ChunkedFile& f) {
  std::string out;
  append_chunked_file_fields(out, f);
  out += '}';
  return out;
}

void append_file_list_begin(std::string& out) {
  out += "{\"files\":[";
}

void append_file_list_row(std::string& out, bool first, std::string_view summary_fields,
                          std::optional<bool> available) {
  if (!first) out += ',';
  out += summary_fields;
  if (available) bool_field(out, "available", *available);
  out += '}';
}

void append_file_list_end(std::string& out, std::optional<std::uint64_t> total) {
  out += ']';
  if (total) int_field(out, "total", *total);
  out += '}';
}

std::string encode_file_list(const FileList& list) {
  std::string out;
  append_file_list_begin(out);
  std::string row;
  for (std::size_t i = 0; i < list.files.size(); ++i) {
    row.clear();
    append_file_summary_fields(row, list.files[i]);
    append_file_list_row(out, i == 0, row, list.files[i].available);
  }
  append_file_list_end(out, list.total);
  return out;
}

std::string encode_file_index(const std::vector<ChunkedFile>& files) {
  std::string out = "{\"files\":[";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const ChunkedFile& f = files[i];
    if (i) out += ',';
    out += '{';
    text_field(out, "name", f.name, true);
    int_field(out, "size", f.size);
    append_digest(out, f);
    append_chunks(out, f);
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace dfd::wire
