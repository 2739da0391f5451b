#include "catalog_rules.hpp"

#include <algorithm>
#include <limits>

#include "dfd/chunks.hpp"
#include "file_name.hpp"

namespace dfd::info {

namespace {
bool is_hex(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_printable(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

bool is_http_url(const std::string& s) {
  if (s.size() > 2048 || !is_printable(s, 2048)) return false;
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}
}  // namespace

Status validate_available(const events::FileAvailable& f) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!is_printable(f.server_id, 256)) {
    return Status::InvalidArgument("file.available: bad server_id");
  }
  if (!is_printable(f.zone, 256)) return Status::InvalidArgument("file.available: bad zone");
  if (!is_http_url(f.url)) return Status::InvalidArgument("file.available: bad url");
  if (!is_hex(f.uid, 256)) return Status::InvalidArgument("file.available: uid is not hex");
  if (std::string why = file_name_problem(f.name); !why.empty()) {
    return Status::InvalidArgument("file.available: " + why);
  }
  if (!is_printable(f.alg, 32)) return Status::InvalidArgument("file.available: bad alg");
  if (f.size > kMax || f.chunk_size == 0 || f.chunk_size > kMax) {
    return Status::InvalidArgument("file.available: size or chunk_size out of range");
  }
  std::uint64_t want = chunk_count(f.size, f.chunk_size);
  if (f.chunks.size() != want) {
    return Status::InvalidArgument("file.available: chunk count does not match size");
  }
  for (const auto& c : f.chunks) {
    if (!is_hex(c, 256))
      return Status::InvalidArgument("file.available: a chunk digest is not hex");
  }
  return Status::Ok();
}

Status validate_removed(const events::FileRemoved& f) {
  if (!is_printable(f.server_id, 256) || f.uid.empty() || f.uid.size() > 256) {
    return Status::InvalidArgument("file.removed: bad server_id or uid");
  }
  return Status::Ok();
}

Status validate_heartbeat(const events::Heartbeat& h) {
  if (!is_printable(h.server_id, 256) || !is_printable(h.zone, 256) || !is_http_url(h.url) ||
      h.interval_ms < 0) {
    return Status::InvalidArgument("server.heartbeat: bad server_id, zone, url or interval_ms");
  }
  return Status::Ok();
}

void render(CatalogFile& f) {
  f.digest = f.uid;  // a file's uid is its whole-file digest
  f.list_json.clear();
  wire::append_file_summary_fields(f.list_json, f);
  f.manifest_json.clear();
  wire::append_chunked_file_fields(f.manifest_json, f);
}

}  // namespace dfd::info
