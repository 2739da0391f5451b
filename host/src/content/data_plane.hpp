// The file server's data plane: a small HTTP/1.1 server dedicated to GET|HEAD /v1/content/{uid}.
//
// Design (docs/file-server.md): N event-loop threads (event_loop.hpp), each with its own epoll
// set, non-blocking sockets registered once edge-triggered for input and output. Loop 0 owns the
// listening socket (listener.hpp) and hands accepted connections round-robin to the loops. A
// connection lives on one loop for its whole life; its state is a bounded head buffer (8 KiB)
// plus the response in flight (response_builder.hpp). Bytes cross the socket through the
// connection's transport (transport.hpp): plain, or TLS when tls_cert/tls_key are set
// (tls_transport.hpp; handshakes driven by readiness like everything else). File bytes go with
// sendfile() (kTLS: SSL_sendfile) from the storage's descriptor, or through a bounded 128 KiB
// staging buffer (response_writer.hpp) for user-space TLS and storages without one. A socket that
// is full is simply left until epoll reports it writable: a stalled client costs no CPU and delays
// nobody else. The token is checked before the file is looked up (token_gate.hpp); a request whose
// token the store does not know yet is parked (no thread is held) until notify_tokens_changed() or
// token_wait_ms. Connections and parked requests are capped per client address and in total
// (connection_limits.hpp); header, idle and send timeouts come from a per-loop deadline heap used
// as the epoll_wait timeout.
//
// Thread-safety: start()/stop() from one controlling thread; notify_tokens_changed(),
// bound_address(), port() and active_connections() from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "content/content_index.hpp"
#include "content/request_target.hpp"
#include "content/response_builder.hpp"
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
  // Issue 11 limits (appended: older aggregate initialisers stay valid).
  int header_timeout_s = 10;  // a head must complete within this (at most idle_timeout_s)
  int max_connections = 0;    // total; 0 = as many as RLIMIT_NOFILE allows (descriptor_budget)
  int max_connections_per_address = 1024;
  int max_parked = 1024;  // requests waiting for an unknown token, in total
  int max_parked_per_address = 256;
  // Issue 12: TLS. Both set → the data plane accepts only TLS (PEM certificate chain and key).
  std::string tls_cert{};
  std::string tls_key{};
  // Issue 14: the access log (access_log.hpp): a file path, "-" for stderr, "" for none.
  std::string access_log{};
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

}  // namespace dfd::host
