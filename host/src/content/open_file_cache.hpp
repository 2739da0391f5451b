// Files opened for serving, cached per event loop so that a stream of range requests costs no
// open(): keyed by uid, checked against the index entry's path, size and mtime, refreshed every
// 10 s, at most `max_entries` (the descriptor budget's share of this loop). A response holds its
// OpenFile alive; the cache dropping it never cuts a transfer short.
//
// Thread-safety: one cache per loop thread; not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

#include "content/content_index.hpp"
#include "dfd/status.hpp"
#include "dfd/storage.hpp"

namespace dfd::host {

class ContentSource;

struct OpenFile {
  std::shared_ptr<const IndexedFile> meta;
  std::shared_ptr<ReadHandle> handle;
  int fd = -1;  // the storage's descriptor, -1 → read_at()
  std::uint64_t size = 0;
  std::string etag;           // "\"<uid>\""
  std::string fixed_headers;  // Accept-Ranges, ETag, Repr-Digest, Content-Disposition, ...
  std::chrono::steady_clock::time_point opened;
};

class OpenFileCache {
 public:
  OpenFileCache(ContentSource& source, std::size_t max_entries)
      : source_(source), max_entries_(max_entries) {}
  // The open file for `meta`; NotFound when it changed since it was indexed.
  Result<std::shared_ptr<OpenFile>> get(const std::shared_ptr<const IndexedFile>& meta);
  void clear() noexcept { files_.clear(); }

 private:
  ContentSource& source_;
  std::size_t max_entries_;
  std::unordered_map<std::string, std::shared_ptr<OpenFile>> files_;
};

}  // namespace dfd::host
