// Test doubles and helpers for the content (file server) tests: an in-memory token store, a
// map-backed ContentSource over real files (descriptor or read_at only), and a raw HTTP/1.1
// client on a loopback socket (keep-alive, pipelining, stalled readers).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "content/data_plane.hpp"
#include "dfd/events.hpp"

namespace dfd::test {

// A token store kept in memory: tokens are known only once remembered (like auth-sqlite).
class MemoryAuth : public Auth {
 public:
  Result<IssuedToken> issue_download_token(std::string_view scope, std::int64_t user_id,
                                           std::chrono::seconds ttl,
                                           DownloadTokenRecord* record) noexcept override {
    auto tok = random_token(24);
    if (!tok.ok()) return tok.status();
    DownloadTokenRecord r{sha256_hex(*tok), std::string(scope), user_id,
                          std::chrono::system_clock::now() + ttl};
    if (record) *record = r;
    return IssuedToken{*tok, r.expires_at};
  }
  TokenVerdict verify_download_token(std::string_view token,
                                     std::string_view scope) noexcept override {
    ++verifications;
    if (token.empty()) return TokenVerdict::kInvalid;
    std::lock_guard<std::mutex> g(mu);
    std::string h = sha256_hex(token);
    if (revoked.count(h)) return TokenVerdict::kRevoked;
    auto it = records.find(h);
    if (it == records.end()) return TokenVerdict::kUnknown;
    if (it->second.expires_at <= std::chrono::system_clock::now()) return TokenVerdict::kExpired;
    if (it->second.scope != scope) return TokenVerdict::kWrongScope;
    return TokenVerdict::kValid;
  }
  Status remember_download_token(const DownloadTokenRecord& r) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    records[r.token_hash] = r;
    return Status::Ok();
  }
  Status revoke_download_token(std::string_view h) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    revoked.insert(std::string(h));
    return Status::Ok();
  }
  bool needs_token_events() const noexcept override { return true; }

  // Test helper: a token for `scope` that this store knows, valid for `ttl`.
  std::string grant(const std::string& scope,
                    std::chrono::seconds ttl = std::chrono::seconds(3600)) {
    DownloadTokenRecord r;
    auto t = issue_download_token(scope, 1, ttl, &r);
    (void)remember_download_token(r);
    return t->token;
  }

  std::mutex mu;
  std::map<std::string, DownloadTokenRecord> records;
  std::set<std::string> revoked;
  std::atomic<int> verifications{0};
};

// A read handle over a real file; with `expose_fd` false it hides the descriptor (read_at only).
class FileHandle : public ReadHandle {
 public:
  FileHandle(int fd, std::uint64_t size, bool expose_fd)
      : fd_(fd), size_(size), expose_(expose_fd) {}
  ~FileHandle() override { ::close(fd_); }
  std::uint64_t size() const noexcept override { return size_; }
  int fd() const noexcept override { return expose_ ? fd_ : -1; }
  Result<std::size_t> read_at(std::uint64_t off, void* buf, std::size_t len) noexcept override {
    ssize_t n = ::pread(fd_, buf, len, static_cast<off_t>(off));
    if (n < 0) return Status::IoError("pread failed");
    return static_cast<std::size_t>(n);
  }

 private:
  int fd_;
  std::uint64_t size_;
  bool expose_;
};

// uid → file on disk.
class MapSource : public host::ContentSource {
 public:
  void add(const std::string& uid, const std::string& abs_path, const std::string& name,
           std::uint64_t size, bool expose_fd = true, const std::string& alg = "sha256") {
    auto f = std::make_shared<host::IndexedFile>();
    f->uid = uid;
    f->path = name;
    f->alg = alg;
    f->size = size;
    f->chunk_size = 4 << 20;
    std::lock_guard<std::mutex> g(mu_);
    files_[uid] = Entry{f, abs_path, expose_fd};
  }
  void remove(const std::string& uid) {
    std::lock_guard<std::mutex> g(mu_);
    files_.erase(uid);
  }
  std::shared_ptr<const host::IndexedFile> find(const std::string& uid) const noexcept override {
    ++finds;
    std::lock_guard<std::mutex> g(mu_);
    auto it = files_.find(uid);
    return it == files_.end() ? nullptr : it->second.meta;
  }
  Result<std::unique_ptr<ReadHandle>> open(const host::IndexedFile& f) noexcept override {
    ++opens;
    std::string path;
    bool expose = true;
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = files_.find(f.uid);
      if (it == files_.end()) return Status::NotFound("gone");
      path = it->second.abs_path;
      expose = it->second.expose_fd;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError("open " + path);
    off_t size = ::lseek(fd, 0, SEEK_END);
    return std::unique_ptr<ReadHandle>(
        new FileHandle(fd, static_cast<std::uint64_t>(size), expose));
  }
  std::atomic<int> opens{0};
  mutable std::atomic<int> finds{0};  // lookups by uid (a token check must come first)

 private:
  struct Entry {
    std::shared_ptr<host::IndexedFile> meta;
    std::string abs_path;
    bool expose_fd;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> files_;
};

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool ok = false;  // a complete response was read
};

// Reads one HTTP/1.1 response from `buf`, calling `fill()` (which appends to `buf`; false = no
// more bytes) until the head and the body (by Content-Length unless `head`) are there. The bytes
// of the response are removed from `buf`.
template <typename Fill>
RawResponse read_http_response(std::string& buf, bool head, Fill fill) {
  RawResponse r;
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return r;
  }
  std::string head_text = buf.substr(0, end + 2);
  buf.erase(0, end + 4);
  auto sp = head_text.find(' ');
  r.status = std::atoi(head_text.c_str() + sp + 1);
  std::size_t pos = head_text.find("\r\n") + 2;
  while (pos < head_text.size()) {
    auto eol = head_text.find("\r\n", pos);
    std::string line = head_text.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  std::size_t len = 0;
  if (!head && r.headers.count("content-length")) len = std::stoull(r.headers["content-length"]);
  while (buf.size() < len) {
    if (!fill()) return r;
  }
  r.body = buf.substr(0, len);
  buf.erase(0, len);
  r.ok = true;
  return r;
}

// A blocking HTTP/1.1 client on one loopback connection.
class RawClient {
 public:
  // `source`: the local address to connect from (any 127.x.y.z works on loopback), so that
  // tests can play several client addresses.
  explicit RawClient(int port, int rcvbuf = 0, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (source != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &local.sin_addr);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  bool send_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Reads one response (body by Content-Length unless `head`), waiting at most `timeout_ms`.
  RawResponse read_response(bool head = false, int timeout_ms = 5000) {
    return read_http_response(buf_, head, [&] { return fill(timeout_ms); });
  }
  // True when the server closed the connection (EOF) within `timeout_ms`.
  bool closed_by_peer(int timeout_ms = 3000) {
    while (true) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char c[4096];
      ssize_t n = ::recv(fd_, c, sizeof c, 0);
      if (n <= 0) return true;
      buf_.append(c, static_cast<std::size_t>(n));
    }
  }

 private:
  bool fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char c[65536];
    ssize_t n = ::recv(fd_, c, sizeof c, 0);
    if (n <= 0) return false;
    buf_.append(c, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

}  // namespace dfd::test
