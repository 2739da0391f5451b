#include "content/open_file_cache.hpp"

#include "content/data_plane.hpp"
#include "content/response_builder.hpp"

namespace dfd::host {

namespace {
constexpr auto kFileCacheTtl = std::chrono::seconds(10);
}  // namespace

Result<std::shared_ptr<OpenFile>> OpenFileCache::get(
    const std::shared_ptr<const IndexedFile>& meta) {
  auto now = std::chrono::steady_clock::now();
  auto it = files_.find(meta->uid);
  if (it != files_.end()) {
    const OpenFile& f = *it->second;
    if (f.meta->path == meta->path && f.meta->size == meta->size &&
        f.meta->mtime_ns == meta->mtime_ns && now - f.opened < kFileCacheTtl) {
      return it->second;
    }
    files_.erase(it);
  }
  auto h = source_.open(*meta);
  if (!h.ok()) return h.status();
  auto f = std::make_shared<OpenFile>();
  f->meta = meta;
  f->handle = std::shared_ptr<ReadHandle>(std::move(h.value()));
  f->fd = f->handle->fd();
  f->size = f->handle->size();
  if (f->size != meta->size) {
    return Status::NotFound("'" + meta->path + "' changed since it was indexed");
  }
  f->opened = now;
  f->etag = "\"" + meta->uid + "\"";
  std::string& fh = f->fixed_headers;
  fh = "Accept-Ranges: bytes\r\nETag: " + f->etag + "\r\n";
  std::string digest = repr_digest_value(meta->alg, meta->uid);
  if (!digest.empty()) fh += "Repr-Digest: " + digest + "\r\n";
  fh += "Content-Disposition: " + content_disposition_value(meta->path) + "\r\n";
  fh += "Cache-Control: private\r\n";
  if (files_.size() >= max_entries_) files_.clear();
  files_.emplace(meta->uid, f);
  return f;
}

}  // namespace dfd::host
