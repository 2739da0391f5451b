#include "origin_index_tool.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "config.hpp"
#include "content/content_index.hpp"
#include "dfd/wire/manifest.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "plugin_loader.hpp"
#include "route_table.hpp"

namespace dfd::host {
namespace fs = std::filesystem;

Result<std::uint64_t> parse_byte_size(const std::string& text) {
  std::size_t used = 0;
  std::uint64_t n = 0;
  try {
    n = std::stoull(text, &used);
  } catch (...) {
    return Status::InvalidArgument("'" + text + "' is not a size (e.g. 4194304, 64KiB, 4MiB)");
  }
  std::string unit = text.substr(used);
  std::uint64_t mult = 1;
  if (unit.empty()) {
    mult = 1;
  } else if (unit == "K" || unit == "KiB") {
    mult = 1ULL << 10;
  } else if (unit == "M" || unit == "MiB") {
    mult = 1ULL << 20;
  } else if (unit == "G" || unit == "GiB") {
    mult = 1ULL << 30;
  } else {
    return Status::InvalidArgument("'" + text + "': unknown unit '" + unit + "' (KiB, MiB, GiB)");
  }
  if (n == 0 || n > (1ULL << 30) / mult) {
    return Status::InvalidArgument("'" + text + "': must be 1 byte .. 1GiB");
  }
  return n * mult;
}

Result<std::size_t> write_origin_index(const OriginIndexOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.root, ec)) {
    return Status::InvalidArgument("--root '" + o.root + "' is not a directory");
  }
  // The plugins, through the host's own loader: storage-fs over DIR, digest-openssl.
  toml::table fs_plugin{{"name", "storage-fs"},
                        {"root", fs::absolute(o.root).string()},
                        {"settle_ms", 0},
                        {"follow_symlinks", false}};
  toml::table root{{"server", toml::table{{"id", "index-tool"}}},
                   {"plugin", toml::array{toml::table{{"name", "digest-openssl"}}, fs_plugin}}};
  std::ostringstream text;
  text << root;
  auto cfg = parse_host_config(text.str(), "dfd-host index");
  if (!cfg.ok()) return cfg.status();

  MetricsRegistry metrics;
  RealClock clock;
  RouteTable routes;
  ServerIdentity identity{"index-tool", "", "", ""};
  SharedServices shared{metrics, clock, identity, routes, LogLevel::kWarn};
  PluginSet plugins(shared, make_logger("dfd-host index", LogLevel::kWarn));
  DFD_RETURN_IF_ERROR(plugins.load(*cfg));
  DFD_RETURN_IF_ERROR(plugins.start_all());
  auto* storage = static_cast<Storage*>(plugins.find(PluginKind::kStorage));
  auto* digest = static_cast<Digest*>(plugins.find(PluginKind::kDigest));
  PluginLogger log(make_logger("index", LogLevel::kWarn));
  ContentIndexOptions io;
  io.chunk_size = o.chunk_size;
  io.algorithm = o.alg;
  ContentIndex index(*storage, *digest, log, metrics, io);
  DFD_RETURN_IF_ERROR(index.open());
  auto scanned = index.rescan();
  if (!scanned.ok()) return scanned.status();

  const fs::path out = fs::absolute(o.output);
  const fs::path out_tmp = out.string() + ".tmp";
  std::vector<wire::ChunkedFile> doc;
  for (const auto& f : index.all_paths()) {
    fs::path abs = fs::absolute(fs::path(o.root) / f->path).lexically_normal();
    if (abs == out.lexically_normal() || abs == out_tmp.lexically_normal()) continue;
    wire::ChunkedFile e;
    e.name = f->path;
    e.size = f->size;
    e.alg = f->alg;
    e.digest = f->uid;
    e.chunk_size = f->chunk_size;
    e.chunks = f->chunks;
    doc.push_back(std::move(e));
  }
  plugins.stop_all();
  {
    std::ofstream w(out_tmp, std::ios::binary | std::ios::trunc);
    w << wire::encode_file_index(doc) << "\n";
    if (!w) return Status::IoError("cannot write '" + out_tmp.string() + "'");
  }
  fs::rename(out_tmp, out, ec);
  if (ec) return Status::IoError("cannot rename to '" + out.string() + "': " + ec.message());
  return doc.size();
}

}  // namespace dfd::host
