#include "chunk_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

namespace dfd::storage_http {
namespace fs = std::filesystem;

namespace {
std::string errno_text() {
  return std::strerror(errno);
}
}  // namespace

ChunkCache::ChunkCache(std::string dir, std::uint64_t max_bytes, Metrics& metrics, Logger& log)
    : dir_(std::move(dir)),
      max_bytes_(max_bytes),
      log_(log),
      evictions_(metrics.counter("dfd_storage_http_evictions_total",
                                 "Chunks evicted from the storage-http cache")),
      bytes_gauge_(metrics.gauge("dfd_storage_http_cache_bytes",
                                 "Bytes of verified chunks in the storage-http cache")) {}

Status ChunkCache::open() noexcept {
  return guard("cache", [&]() -> Status {
    std::error_code ec;
    for (const char* sub : {"", "/chunks", "/tmp"}) {
      fs::create_directories(dir_ + sub, ec);
      if (ec) return Status::IoError("cache_dir '" + dir_ + sub + "': " + ec.message());
      fs::permissions(dir_ + sub, fs::perms::owner_all, fs::perm_options::replace, ec);
    }
    for (const auto& e : fs::directory_iterator(dir_ + "/tmp", ec)) fs::remove(e.path(), ec);
    struct Found {
      std::string key;
      std::uint64_t size;
      fs::file_time_type mtime;
    };
    std::vector<Found> found;
    for (const auto& e : fs::directory_iterator(dir_ + "/chunks", ec)) {
      std::error_code fe;
      if (!e.is_regular_file(fe)) continue;
      found.push_back({e.path().filename().string(), e.file_size(fe), e.last_write_time(fe)});
    }
    if (ec) return Status::IoError("cache_dir '" + dir_ + "/chunks': " + ec.message());
    std::sort(found.begin(), found.end(),
              [](const Found& a, const Found& b) { return a.mtime < b.mtime; });
    std::lock_guard<std::mutex> g(mu_);
    for (Found& f : found) {
      lru_.push_back(f.key);
      entries_[f.key] = Entry{f.size, std::prev(lru_.end()), ++gen_seq_};
      total_ += f.size;
    }
    evict_locked("");
    bytes_gauge_.set(static_cast<double>(total_));
    log_.info("cache '" + dir_ + "': " + std::to_string(entries_.size()) + " chunks, " +
              std::to_string(total_) + " bytes (cap " + std::to_string(max_bytes_) + ")");
    return Status::Ok();
  });
}

Result<std::size_t> ChunkCache::read(const std::string& key, std::uint64_t chunk_len,
                                     std::uint64_t offset, void* buf, std::size_t len) noexcept {
  return guard("cache read", [&]() -> Result<std::size_t> {
    std::uint64_t gen = 0;  // which entry of `key` this read saw (put() may add a newer one)
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = entries_.find(key);
      if (it == entries_.end()) return Status::NotFound("not cached");
      lru_.splice(lru_.end(), lru_, it->second.lru);  // most recently used
      gen = it->second.gen;
    }
    int fd = ::open(path_of(key).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {  // evicted meanwhile, or removed behind our back
      std::lock_guard<std::mutex> g(mu_);
      forget_locked(key, gen);
      return Status::NotFound("not cached");
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_size) != chunk_len) {
      ::close(fd);
      log_.warn("cache: chunk " + key + " has the wrong size on disk; dropping it");
      std::lock_guard<std::mutex> g(mu_);
      if (forget_locked(key, gen)) {  // not when put() has stored it again meanwhile
        std::error_code ec;
        fs::remove(path_of(key), ec);
      }
      return Status::NotFound("not cached");
    }
    if (offset >= chunk_len) {
      ::close(fd);
      return std::size_t{0};
    }
    len = static_cast<std::size_t>(std::min<std::uint64_t>(len, chunk_len - offset));
    ssize_t n;
    do {
      n = ::pread(fd, buf, len, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    int saved = errno;
    ::close(fd);
    if (n < 0) {
      errno = saved;
      return Status::IoError("cache: read chunk " + key + ": " + errno_text());
    }
    return static_cast<std::size_t>(n);
  });
}

Status ChunkCache::put(const std::string& key, const std::string& bytes) noexcept {
  return guard("cache put", [&]() -> Status {
    if (bytes.size() > max_bytes_) return Status::Ok();  // never fits: serve it, do not keep it
    std::string tmp;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (entries_.count(key)) return Status::Ok();
      tmp = dir_ + "/tmp/" + key + "." + std::to_string(++tmp_seq_);
    }
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IoError("cache: create '" + tmp + "': " + errno_text());
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::string why = errno_text();
        ::close(fd);
        ::unlink(tmp.c_str());
        return Status::IoError("cache: write '" + tmp + "': " + why);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 || ::rename(tmp.c_str(), path_of(key).c_str()) != 0) {
      std::string why = errno_text();
      ::unlink(tmp.c_str());
      return Status::IoError("cache: store chunk " + key + ": " + why);
    }
    std::lock_guard<std::mutex> g(mu_);
    if (!entries_.count(key)) {
      lru_.push_back(key);
      entries_[key] = Entry{bytes.size(), std::prev(lru_.end()), ++gen_seq_};
      total_ += bytes.size();
    }
    evict_locked(key);
    bytes_gauge_.set(static_cast<double>(total_));
    return Status::Ok();
  });
}

bool ChunkCache::contains(const std::string& key) const noexcept {
  std::lock_guard<std::mutex> g(mu_);
  return entries_.count(key) != 0;
}

std::uint64_t ChunkCache::bytes() const noexcept {
  std::lock_guard<std::mutex> g(mu_);
  return total_;
}

bool ChunkCache::forget_locked(const std::string& key, std::uint64_t gen) {
  auto it = entries_.find(key);
  if (it == entries_.end() || (gen != 0 && it->second.gen != gen)) return false;
  total_ -= it->second.size;
  lru_.erase(it->second.lru);
  entries_.erase(it);
  bytes_gauge_.set(static_cast<double>(total_));
  return true;
}

void ChunkCache::evict_locked(const std::string& keep) {
  auto it = lru_.begin();
  while (total_ > max_bytes_ && it != lru_.end()) {
    if (*it == keep) {
      ++it;
      continue;
    }
    std::string key = *it++;
    std::error_code ec;
    fs::remove(path_of(key), ec);
    forget_locked(key);
    evictions_.add(1);
  }
}

}  // namespace dfd::storage_http
