// The file server role of dfd-host: active when the config has a [content] table and a storage
// plugin is loaded. It owns
//   - the ContentIndex (manifests over the storage plugin),
//   - the data-plane HTTP listener serving GET/HEAD /v1/content/{uid} (ranges, sendfile),
//   - the broker side of a file server: consumes token.issued/token.revoked into the auth
//     plugin, publishes file.available/file.removed after each (re)scan and server.heartbeat.
// See docs/file-server.md for the data-path design.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <toml++/toml.h>

#include "dfd/auth.hpp"
#include "dfd/broker.hpp"
#include "dfd/digest.hpp"
#include "dfd/host_services.hpp"
#include "dfd/storage.hpp"

namespace dfd::host {

// The [content] table of a host config.
struct ContentOptions {
  std::string listen = "127.0.0.1:0";  // data-plane address; port 0 = pick a free one
  std::string public_url;              // advertised URL; default "http://" + bound address
  int threads = 2;                     // data-plane event-loop threads
  std::uint64_t chunk_size = 4 * 1024 * 1024;
  std::string digest = "sha256";
  std::string index_db;      // default: <state_dir>/index.db
  int token_wait_ms = 2000;  // how long an unknown token is waited for
  // Issue 14: a file copied in after the start is picked up within a minute by default.
  int rescan_interval_s = 60;  // also at start and on SIGHUP; 0 = only then
  int heartbeat_interval_ms = 2000;
  int idle_timeout_s = 60;    // keep-alive connections idle longer are closed
  int send_timeout_s = 60;    // a client that accepts no byte this long is dropped
  int max_ranges = 16;        // more ranges in one request: served as one 200
  int header_timeout_s = 10;  // a request head must arrive within this (slowloris)
  int max_connections = 0;    // data-plane connections in total; 0 = fit RLIMIT_NOFILE
  int max_connections_per_address = 1024;
  int max_parked = 1024;  // requests waiting for an unknown token, in total
  int max_parked_per_address = 256;
  // The auth plugin (by name) that checks download tokens; empty = the first one listed. Needed
  // when a host lists two (all-in-one: auth-sqlite for users, auth-hmac for download tokens).
  std::string auth;
  // Issue 12: TLS on the data plane. `tls_cert`/`tls_key` (PEM files) default to [server]'s
  // (resolve_content_tls()); when set, the data plane accepts only TLS and the default public
  // URL is https://. `[content] tls = false` turns TLS off explicitly.
  std::string tls_cert;
  std::string tls_key;
  bool tls_off = false;
  // Issue 14: the data plane's access log (access_log.hpp): a file (relative to the config
  // file's directory), "-" for stderr, "" (the default; also "${DFD_ACCESS_LOG:-}" unset) for none.
  std::string access_log;
  bool tls() const { return !tls_off && !tls_cert.empty(); }
  // The data plane's URL at `address` ("127.0.0.1:PORT"): https:// when it serves TLS.
  std::string url_at(const std::string& address) const {
    return (tls() ? "https://" : "http://") + address;
  }
};

// Parses a [content] table; errors name file, line and key ("cfg.toml:14: [content] key 'threads':
// expected an integer"). Unknown keys are errors.
Result<ContentOptions> parse_content_options(const toml::table& table, const std::string& file);

// Completes the TLS settings of parsed [content] options: a certificate and key not given in
// [content] are [server]'s (`server_cert`, `server_key`, read from the same file) unless
// `tls = false`. Errors name file:line:key: `tls = true` without a certificate anywhere. (An
// http:// public_url with TLS on is only warned about at start: a proxy may stand in front.)
Status resolve_content_tls(ContentOptions& o, const std::string& server_cert,
                           const std::string& server_key, const toml::table& table,
                           const std::string& file);

// Refuses options that `digest` (the plugin named `digest_name`) cannot serve: `digest` must be
// one of its algorithms() (compared without case). The error names file:line:key:
// "cfg.toml:68: [content] key 'digest': 'md5' is not offered by digest-openssl (it offers ...)".
// Opens nothing: dfd-host --check runs it, and so does every start, before any plugin starts.
Status check_content_digest(const ContentOptions& o, const Digest& digest,
                            const std::string& digest_name, const toml::table& table,
                            const std::string& file);

// The content index's file: `index_db`, else <state_dir>/index.db ("" without either).
std::string index_db_path(const ContentOptions& o, const std::string& state_dir);

// Refuses an index file start() could not create (dfd/creatable_file.hpp: judged, not made),
// naming file:line of `index_db` (or of [content] for the default under `state_dir`).
Status check_content_paths(const ContentOptions& o, const std::string& state_dir,
                           const toml::table& table, const std::string& file);

// What the service needs from the host; all references outlive the service.
struct ContentContext {
  Logger& log;
  Metrics& metrics;
  const Clock& clock;
  const ServerIdentity& server;
  Storage& storage;
  Auth& auth;
  Digest& digest;
  Broker* broker;  // may be null (no events: e.g. auth-hmac with no broker)
  // Issue 15: the ABI minor the storage plugin was built with; >= 4 means it has
  // Storage::known_digests, which the content index then asks before reading a file.
  std::uint32_t storage_abi_minor = 0;
};

class ContentService {
 public:
  ContentService(ContentContext ctx, ContentOptions options);
  ~ContentService();

  // Indexes the storage, binds the listener, starts threads, subscribes and publishes.
  Status start() noexcept;
  // Stops accepting, finishes in-flight responses for up to `grace_ms`, joins every thread.
  void stop(int grace_ms) noexcept;
  // Rescans storage now (SIGHUP); publishes the changes. Thread-safe.
  void rescan() noexcept;
  // rescan() that returns a ticket (0 when not started): rescan_finished(ticket) becomes true
  // once a rescan that began after the call has finished and its changes were handed to the
  // broker (a failed rescan finishes too; its error is in health()). Thread-safe; never blocks
  // on a rescan. The host waits for it between RELOADING=1 and READY=1 (service_notify.hpp).
  std::uint64_t request_rescan() noexcept;
  bool rescan_finished(std::uint64_t ticket) const noexcept;
  Health health() const noexcept;
  // The bound data-plane address "127.0.0.1:PORT" and public URL (after start()).
  std::string bound_address() const;
  std::string public_url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dfd::host
