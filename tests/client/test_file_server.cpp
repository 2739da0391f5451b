#include "test_file_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>

namespace dfd::test {

std::string digest_hex(const std::string& alg, const char* p, std::size_t n) {
  const EVP_MD* md = alg == "sha256"        ? EVP_sha256()
                     : alg == "sha512"      ? EVP_sha512()
                     : alg == "sha3-256"    ? EVP_sha3_256()
                     : alg == "blake2b-512" ? EVP_blake2b512()
                                            : nullptr;
  if (!md) throw std::runtime_error("unknown alg " + alg);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(p, n, out, &len, md, nullptr);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

wire::Manifest manifest_of(const TestFile& f) {
  const std::string& d = *f.data;
  wire::Manifest m;
  m.id = f.id;
  m.uid = f.uid;
  m.name = f.name;
  m.size = d.size();
  m.alg = f.alg;
  m.digest = digest_hex(f.alg, d.data(), d.size());
  m.chunk_size = f.chunk_size;
  for (std::size_t off = 0; off < d.size(); off += f.chunk_size)
    m.chunks.push_back(
        digest_hex(f.alg, d.data() + off, std::min<std::size_t>(f.chunk_size, d.size() - off)));
  return m;
}

nlohmann::json manifest_for(const TestFile& f) {
  return nlohmann::json::parse(wire::encode_chunked_file(manifest_of(f)));
}

std::shared_ptr<const std::string> random_bytes(std::size_t n, std::uint32_t seed) {
  auto s = std::make_shared<std::string>(n, '\0');
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    std::uint64_t v = rng();
    std::memcpy(&(*s)[i], &v, 8);
  }
  for (std::size_t i = n - n % 8; i < n; ++i) (*s)[i] = static_cast<char>(rng());
  return s;
}

TestServer::TestServer(std::string server_id) : id_(std::move(server_id)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 128) != 0)
    throw std::runtime_error("test server: cannot listen");
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestServer::~TestServer() {
  stop_ = true;
  kill();
  release_stall();
  acceptor_.join();
  std::vector<std::thread> conns;
  {
    std::lock_guard<std::mutex> lk(mu_);
    conns.swap(conns_);
  }
  for (auto& t : conns) t.join();
}

std::string TestServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void TestServer::serve_content(const std::string& uid, std::shared_ptr<const std::string> data) {
  std::lock_guard<std::mutex> lk(mu_);
  content_[uid] = std::move(data);
}

void TestServer::set_tokens(std::set<std::string> tokens) {
  std::lock_guard<std::mutex> lk(mu_);
  tokens_ = std::move(tokens);
}

void TestServer::serve_info(std::string email, std::string password, std::vector<TestFile> files,
                            std::vector<wire::Location> locations,
                            std::vector<std::string> download_tokens) {
  email_ = std::move(email);
  password_ = std::move(password);
  files_ = std::move(files);
  locations_ = std::move(locations);
  download_tokens_ = std::move(download_tokens);
}

void TestServer::kill() {
  bool was = dead_.exchange(true);
  std::lock_guard<std::mutex> lk(mu_);
  if (!was) ::shutdown(listen_fd_, SHUT_RDWR);
  for (int fd : conn_fds_) {
    linger l{1, 0};  // RST, like a killed process
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::shutdown(fd, SHUT_RDWR);
  }
}

void TestServer::release_stall() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stall_released_ = true;
  }
  cv_.notify_all();
}

bool TestServer::stalled_wait() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return stall_released_ || stop_; });
  return false;
}

void TestServer::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (dead_) {
      ::close(fd);
      break;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++connections;
    std::lock_guard<std::mutex> lk(mu_);
    conn_fds_.insert(fd);
    conns_.emplace_back([this, fd] { serve_conn(fd); });
  }
  ::close(listen_fd_);
}

void TestServer::serve_conn(int fd) {
  std::string buf;
  char tmp[16384];
  for (;;) {
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) goto done;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
    {
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      std::size_t eol = head.find("\r\n");
      std::string line = head.substr(0, eol);
      std::string method = line.substr(0, line.find(' '));
      std::string target = line.substr(line.find(' ') + 1);
      target = target.substr(0, target.find(' '));
      std::map<std::string, std::string> headers;
      std::size_t pos = eol == std::string::npos ? head.size() : eol + 2;
      while (pos < head.size()) {
        std::size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string h = head.substr(pos, e - pos);
        auto c = h.find(':');
        if (c != std::string::npos) {
          std::string k = h.substr(0, c);
          std::transform(k.begin(), k.end(), k.begin(), ::tolower);
          std::string v = h.substr(c + 1);
          while (!v.empty() && v.front() == ' ') v.erase(0, 1);
          headers[k] = v;
        }
        pos = e + 2;
      }
      std::size_t clen =
          headers.count("content-length") ? std::stoul(headers["content-length"]) : 0;
      while (buf.size() < clen) {
        ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) goto done;
        buf.append(tmp, static_cast<std::size_t>(n));
      }
      std::string body = buf.substr(0, clen);
      buf.erase(0, clen);
      if (!handle(fd, method, target, headers, body)) goto done;
      if (headers["connection"] == "close") goto done;
    }
  }
done : {
  std::lock_guard<std::mutex> lk(mu_);
  conn_fds_.erase(fd);
}
  ::close(fd);
}

bool TestServer::write_all(int fd, const char* p, std::size_t n) {
  while (n) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool TestServer::send_json(int fd, int status, const nlohmann::json& j,
                           const std::string& extra_headers) {
  return send_body(fd, status, j.dump(), extra_headers);
}

bool TestServer::send_body(int fd, int status, const std::string& body,
                           const std::string& extra_headers) {
  std::string head = "HTTP/1.1 " + std::to_string(status) +
                     " X\r\nContent-Type: application/json\r\n" + extra_headers +
                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return write_all(fd, head.data(), head.size()) && write_all(fd, body.data(), body.size());
}

// A 200 whose JSON body opens a string that never closes: the client has to stop reading on its
// own. Cut after `limit` bytes so that a client without a cap still ends (with a huge buffer).
bool TestServer::send_endless_json(int fd, std::int64_t limit) {
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
      "{\"files\":[{\"id\":1,\"name\":\"";
  if (!write_all(fd, head.data(), head.size())) return false;
  std::string block(64 * 1024, 'x');
  for (std::int64_t sent = 0; sent < limit && !dead_;
       sent += static_cast<std::int64_t>(block.size()))
    if (!write_all(fd, block.data(), block.size())) return false;
  return false;  // close the connection: the body ends here
}

// A 206 whose header lines never end (cut after 64 MiB).
bool TestServer::send_endless_headers(int fd) {
  std::string head = "HTTP/1.1 206 Partial Content\r\n";
  if (!write_all(fd, head.data(), head.size())) return false;
  std::string line = "X-Padding: " + std::string(1000, 'p') + "\r\n";
  for (int i = 0; i < 64 * 1024 && !dead_; ++i)
    if (!write_all(fd, line.data(), line.size())) return false;
  return false;
}

// Sends `n` bytes one at a time, faults.trickle_interval_ms apart.
bool TestServer::trickle(int fd, const char* p, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    if (dead_ || stop_ || !write_all(fd, p + i, 1)) return false;
    ++body_bytes;
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(faults.trickle_interval_ms.load());
    while (std::chrono::steady_clock::now() < until) {
      if (dead_ || stop_) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return true;
}

namespace {
nlohmann::json err(const std::string& code, const std::string& msg) {
  return {{"error", {{"code", code}, {"message", msg}}}};
}
}  // namespace

bool TestServer::handle(int fd, const std::string& method, const std::string& target,
                        const std::map<std::string, std::string>& headers,
                        const std::string& body) {
  if (dead_) return false;
  std::string path = target.substr(0, target.find('?'));
  auto auth = headers.count("authorization") ? headers.at("authorization") : "";
  std::string bearer = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
  if (path.rfind("/v1/content/", 0) == 0) return send_content(fd, path.substr(12), headers);
  ++info_requests;
  if (int status = faults.info_status.load();
      status != 0 && manifest_requests.load() >= faults.info_status_after.load())
    return send_json(fd, status, err("unavailable", "info fault " + std::to_string(status)),
                     faults.info_retry_after.load() > 0
                         ? "Retry-After: " + std::to_string(faults.info_retry_after.load()) + "\r\n"
                         : "");
  if (path == "/v1/auth/login" && method == "POST") {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || j.value("email", "") != email_ || j.value("password", "") != password_)
      return send_json(fd, 401, err("invalid_credentials", "invalid email or password"));
    return send_json(fd, 200,
                     {{"token", user_token_},
                      {"expires_at", "2030-01-01T00:00:00Z"},
                      {"user", {{"id", 1}, {"email", email_}, {"name", "T"}, {"role", "user"}}}});
  }
  if (bearer != user_token_)
    return send_json(fd, 401, err("unauthorized", "invalid or expired token"));
  if (path == "/v1/auth/logout") return send_json(fd, 200, nlohmann::json::object());
  if (faults.stall_info && path.rfind("/v1/files", 0) == 0) return stalled_wait();
  if (auto limit = faults.endless_info_body.load(); limit > 0 && path.rfind("/v1/files", 0) == 0)
    return send_endless_json(fd, limit);
  if (path == "/v1/files") {
    wire::FileList list;
    for (const auto& f : files_) list.files.push_back(manifest_of(f));
    list.total = list.files.size();
    return send_body(fd, 200, wire::encode_file_list(list));
  }
  if (path.rfind("/v1/files/", 0) == 0) {
    std::string id = path.substr(10);
    for (const auto& f : files_) {
      if (std::to_string(f.id) != id) continue;
      auto m = manifest_of(f);
      m.locations = locations_;
      auto k = manifest_requests++;
      m.download_token =
          download_tokens_.empty()
              ? std::string("dl-token")
              : download_tokens_[std::min<std::size_t>(k, download_tokens_.size() - 1)];
      m.token_expires_at = "2030-01-01T00:00:00Z";
      return send_body(fd, 200, wire::encode_manifest(m));
    }
    return send_json(fd, 404, err("not_found", "no file with id " + id));
  }
  return send_json(fd, 404, err("not_found", "no route"));
}

bool TestServer::send_content(int fd, const std::string& uid,
                              const std::map<std::string, std::string>& headers) {
  ++content_requests;
  auto stall_at = faults.stall_after.load();
  if (stall_at >= 0 && static_cast<std::int64_t>(body_bytes.load()) >= stall_at)
    return stalled_wait();
  auto auth = headers.count("authorization") ? headers.at("authorization") : "";
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (auth.rfind("Bearer ", 0) != 0 || !tokens_.count(auth.substr(7)))
      return send_json(fd, 403, err("forbidden", "unknown download token"));
  }
  int fc = faults.fail_count.load();
  if (fc != 0 && faults.fail_status.load()) {
    if (fc > 0) faults.fail_count--;
    return send_json(fd, faults.fail_status.load(), err("boom", "injected failure"));
  }
  std::shared_ptr<const std::string> data;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = content_.find(uid);
    if (it != content_.end()) data = it->second;
    if (!data && content_.size() == 1) data = content_.begin()->second;
  }
  if (!data) return send_json(fd, 404, err("not_found", "no such file"));
  if (faults.endless_headers) return send_endless_headers(fd);
  const std::string& d = *data;
  std::uint64_t a = 0, b = d.size() ? d.size() - 1 : 0;
  bool ranged = false;
  if (headers.count("range")) {
    const std::string& r = headers.at("range");
    unsigned long long x = 0, y = 0;
    if (std::sscanf(r.c_str(), "bytes=%llu-%llu", &x, &y) == 2 && x <= y && x < d.size()) {
      a = x;
      b = std::min<std::uint64_t>(y, d.size() - 1);
      ranged = true;
    } else {
      std::string h = "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" +
                      std::to_string(d.size()) + "\r\nContent-Length: 0\r\n\r\n";
      return write_all(fd, h.data(), h.size());
    }
  }
  std::uint64_t n = b - a + 1;
  auto shift = faults.range_shift.load();
  std::string head = ranged ? "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " +
                                  std::to_string(a + static_cast<std::uint64_t>(shift)) + "-" +
                                  std::to_string(b + static_cast<std::uint64_t>(shift)) + "/" +
                                  std::to_string(d.size()) + "\r\n"
                            : "HTTP/1.1 200 OK\r\n";
  head += "Content-Length: " + std::to_string(n) + "\r\nAccept-Ranges: bytes\r\n\r\n";
  if (!write_all(fd, head.data(), head.size())) return false;
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t sent = 0;
  std::string block;
  while (sent < n) {
    if (dead_) return false;
    std::uint64_t blk = std::min<std::uint64_t>(64 * 1024, n - sent);
    std::uint64_t before = body_bytes.load();
    auto die_at = faults.die_after.load();
    if (die_at >= 0 && before + blk > static_cast<std::uint64_t>(die_at)) {
      std::uint64_t part = static_cast<std::uint64_t>(die_at) > before ? die_at - before : 0;
      write_all(fd, d.data() + a + sent, std::min(part, blk));
      body_bytes += std::min(part, blk);
      kill();
      return false;
    }
    stall_at = faults.stall_after.load();
    if (stall_at >= 0 && static_cast<std::int64_t>(before + blk) > stall_at) return stalled_wait();
    auto trickle_at = faults.trickle_after.load();
    if (trickle_at >= 0 && static_cast<std::int64_t>(before + blk) > trickle_at) {
      std::uint64_t fast =
          static_cast<std::uint64_t>(trickle_at) > before ? trickle_at - before : 0;
      if (!write_all(fd, d.data() + a + sent, fast)) return false;
      body_bytes += fast;
      return trickle(fd, d.data() + a + sent + fast, n - sent - fast);
    }
    const char* p = d.data() + a + sent;
    auto co = faults.corrupt_offset.load();
    bool flip_first = faults.corrupt_all && sent == 0;
    bool flip_at = co >= 0 && static_cast<std::uint64_t>(co) >= a + sent &&
                   static_cast<std::uint64_t>(co) < a + sent + blk;
    if (flip_first || flip_at) {
      block.assign(p, blk);
      std::size_t i =
          flip_first ? 0 : static_cast<std::size_t>(co - static_cast<std::int64_t>(a + sent));
      block[i] = static_cast<char>(block[i] ^ 0x5a);
      p = block.data();
    }
    if (!write_all(fd, p, blk)) return false;
    sent += blk;
    body_bytes += blk;
    auto rate = faults.rate.load();
    if (rate > 0) {
      auto due = t0 + std::chrono::microseconds(sent * 1000000 / static_cast<std::uint64_t>(rate));
      std::this_thread::sleep_until(due);
    }
  }
  return true;
}

}  // namespace dfd::test
