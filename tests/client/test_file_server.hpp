// A small real HTTP/1.1 server on 127.0.0.1 for the client's tests: it serves
// GET /v1/content/{uid} with Range (206 + Content-Range, Bearer download token) from memory and,
// optionally, the info API (login, file list, manifest). Fault switches make it lie, stall, die or
// fail so the client's failover can be exercised over real sockets.
//
// Thread-safety: one accept thread plus one thread per connection; the fault switches are atomics
// and may be flipped from the test thread at any time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dfd/wire/manifest.hpp"

namespace dfd::test {

struct Faults {
  std::atomic<bool> corrupt_all{false};          // flip the first byte of every body
  std::atomic<std::int64_t> corrupt_offset{-1};  // flip the byte at this file offset when served
  std::atomic<std::int64_t> stall_after{-1};     // after this many body bytes (total): hang
  std::atomic<std::int64_t> die_after{-1};       // after this many body bytes: close everything
  std::atomic<int> fail_status{0};               // answer this status instead ...
  std::atomic<int> fail_count{0};                // ... for the next N content requests (-1: all)
  std::atomic<std::int64_t> rate{0};             // bytes/s per connection (0 = unlimited)
  std::atomic<std::int64_t> range_shift{0};      // lie in Content-Range (first/last + shift)
  // Hostile server (issue 11):
  std::atomic<std::int64_t> trickle_after{-1};  // after this many body bytes: 1 byte per interval
  std::atomic<int> trickle_interval_ms{100};
  std::atomic<std::int64_t> endless_info_body{0};  // >0: /v1/files* answer 200 with a JSON body
                                                   // that never ends (cut after this many bytes)
  std::atomic<bool> endless_headers{false};        // content: header lines that never end
  std::atomic<bool> stall_info{false};             // /v1/files*: hang until release_stall()
  // Several info servers (issue 16): every info request (login, logout, list, manifest) is
  // answered with this status and a JSON error while it is non-zero.
  std::atomic<int> info_status{0};
  std::atomic<std::uint64_t> info_status_after{0};  // ... once this many manifests were served
  std::atomic<int> info_retry_after{0};  // > 0: those answers carry "Retry-After: N" (issue 13)
};

// Everything one file needs in the info API.
struct TestFile {
  std::int64_t id = 1;
  std::string uid;
  std::string name;
  std::shared_ptr<const std::string> data;
  std::uint64_t chunk_size = 1 << 20;
  std::string alg = "sha256";
};

// Digest helpers (OpenSSL one-shot; independent of the client's code).
std::string digest_hex(const std::string& alg, const char* p, std::size_t n);
// The manifest the info API answers for `f`, without locations and token (built here, encoded by
// the wire library like every info server's answer).
wire::Manifest manifest_of(const TestFile& f);
// The same as JSON (wire::encode_chunked_file), for tests that bend it.
nlohmann::json manifest_for(const TestFile& f);
// Deterministic pseudo-random bytes.
std::shared_ptr<const std::string> random_bytes(std::size_t n, std::uint32_t seed);

class TestServer {
 public:
  explicit TestServer(std::string server_id = "fs");
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  std::string url() const;
  const std::string& id() const { return id_; }

  // Content role: serve `data` under /v1/content/{uid} for requests carrying one of the tokens
  // (several uids: call it once per file; a server holding one file serves it for any uid).
  void serve_content(const std::string& uid, std::shared_ptr<const std::string> data);
  void set_tokens(std::set<std::string> tokens);

  // Info role: one user, a catalog, the locations of each file, the download tokens handed out
  // (the k-th manifest request gets tokens[min(k, n-1)]).
  void serve_info(std::string email, std::string password, std::vector<TestFile> files,
                  std::vector<wire::Location> locations, std::vector<std::string> download_tokens);

  // Stops accepting and drops every connection (like kill -9 of a server).
  void kill();
  // Releases connections hanging in a stall.
  void release_stall();

  Faults faults;
  std::atomic<std::uint64_t> body_bytes{0};  // content body bytes sent
  std::atomic<std::uint64_t> content_requests{0};
  std::atomic<std::uint64_t> connections{0};  // accepted TCP connections
  std::atomic<std::uint64_t> manifest_requests{0};
  std::atomic<std::uint64_t> info_requests{0};  // every request to the info API (any answer)

 private:
  void accept_loop();
  void serve_conn(int fd);
  bool handle(int fd, const std::string& method, const std::string& target,
              const std::map<std::string, std::string>& headers, const std::string& body);
  bool send_content(int fd, const std::string& uid,
                    const std::map<std::string, std::string>& headers);
  bool send_json(int fd, int status, const nlohmann::json& j,
                 const std::string& extra_headers = "");
  bool send_body(int fd, int status, const std::string& body,
                 const std::string& extra_headers = "");
  bool send_endless_json(int fd, std::int64_t limit);
  bool send_endless_headers(int fd);
  bool trickle(int fd, const char* p, std::uint64_t n);
  bool write_all(int fd, const char* p, std::size_t n);
  bool stalled_wait();

  std::string id_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> dead_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stall_released_ = false;     // guarded by mu_
  std::vector<std::thread> conns_;  // guarded by mu_
  std::set<int> conn_fds_;          // guarded by mu_
  std::set<std::string> tokens_;    // guarded by mu_
  // uid -> bytes (under mu_); a request for another uid gets the only one when there is one.
  std::map<std::string, std::shared_ptr<const std::string>> content_;
  // info role
  std::string email_, password_, user_token_ = "user-token-1";
  std::vector<TestFile> files_;
  std::vector<wire::Location> locations_;
  std::vector<std::string> download_tokens_;
};

}  // namespace dfd::test
