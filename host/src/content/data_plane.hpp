// The file server's data plane: a small HTTP/1.1 server dedicated to GET|HEAD /v1/content/{uid}.
//
// Design (docs/file-server.md): N event-loop threads, each with its own epoll set, non-blocking
// sockets registered once edge-triggered for input and output. Loop 0 owns the listening socket
// and hands accepted connections round-robin to the loops. A connection lives on one loop for its
// whole life; its state is a bounded head buffer (8 KiB) plus the response in flight. Response
// heads are written from memory, file bytes with sendfile() from the storage's descriptor (or
// through a bounded 256 KiB buffer with read_at() when the storage has none). A socket that is
// full is simply left until epoll reports it writable: a stalled client costs no CPU and delays
// nobody else. A request whose token the store does not know yet is parked (no thread is held)
// until notify_tokens_changed() or token_wait_ms; idle and send timeouts come from a per-loop
// deadline heap used as the epoll_wait timeout.
//
// Thread-safety: start()/stop() from one controlling thread; notify_tokens_changed(),
// bound_address(), port() and active_connections() from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "content/content_index.hpp"
#include "dfd/auth.hpp"
#include "dfd/host_services.hpp"
#include "dfd/storage.hpp"

namespace dfd::host {

// Where the data plane finds files: uid → indexed file, and opening one. Implemented over the
// ContentIndex + Storage by ContentService, and by in-memory doubles in tests.
// Thread-safety: both methods are called concurrently from every loop thread.
class ContentSource {
 public:
  virtual ~ContentSource() = default;
  // The file with this uid or nullptr; any string is safe (it is only looked up).
  virtual std::shared_ptr<const IndexedFile> find(const std::string& uid) const noexcept = 0;
  virtual Result<std::unique_ptr<ReadHandle>> open(const IndexedFile& file) noexcept = 0;
};

struct DataPlaneOptions {
  std::string listen = "127.0.0.1:0";
  int threads = 2;
  int token_wait_ms = 2000;
  int idle_timeout_s = 60;
  int send_timeout_s = 60;
  int max_ranges = 16;
  std::size_t max_head = 8192;  // request head limit (431 beyond)
};

class DataPlane {
 public:
  // All references must outlive the DataPlane.
  DataPlane(Logger& log, Metrics& metrics, Auth& auth, ContentSource& source,
            DataPlaneOptions options);
  ~DataPlane();  // stop(0) if still running
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  // Binds the listener and starts the loop threads.
  Status start() noexcept;
  // Stops accepting, lets responses in flight finish for up to `grace_ms`, closes every
  // connection and joins the threads. Idempotent.
  void stop(int grace_ms) noexcept;
  // The token store changed (a token.issued/revoked event was applied): re-check parked requests.
  void notify_tokens_changed() noexcept;

  std::string bound_address() const;  // "127.0.0.1:PORT" after start()
  int port() const noexcept;
  std::int64_t active_connections() const noexcept;
  bool running() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Response-header helpers (exposed for tests).
// `Content-Disposition: attachment; filename="..."` value for a path's basename: quotes and
// backslashes escaped, control characters replaced, non-ASCII as `filename*=UTF-8''...`.
std::string content_disposition_value(std::string_view path);
// RFC 9530 `Repr-Digest` value ("sha-256=:BASE64:") for a hex digest, or "" when the algorithm
// has no registered name here or the hex is malformed.
std::string repr_digest_value(std::string_view alg, std::string_view hex);
// Percent-decodes a path segment; false on a malformed escape.
bool percent_decode(std::string_view in, std::string* out);

}  // namespace dfd::host
