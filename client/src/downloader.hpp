// Downloader: the `dfd get` engine, usable without the command line.
//
// One thread runs a libcurl multi event loop (no thread per chunk) and only moves bytes; a
// HashWorker thread computes the chunk digests from 256 KiB blocks the loop hands it (and starts
// writeback), and a PrefixHasher thread hashes the verified prefix of the file. Chunks are the
// manifest's; each request is `GET <location>/v1/content/<uid>` with `Range: bytes=a-b` and the
// download token; the response must be 206 with exactly that Content-Range; bytes go straight to
// their offset in one `PATH.dfd-part` (whole blocks at a time; sparse until the first chunk is
// verified, then preallocated) and are hashed as they arrive; a chunk counts only once its digest
// matches the manifest. A state file `PATH.dfd-state` records verified chunks for resume; a
// failed download without any verified chunk removes both. See docs/client.md for the
// scheduling, failure and resume rules.
//
// Code structure (the engine is DownloadEngine, internal, in download_engine.hpp):
//   downloader.cpp          run(): open the part, the attempts, the result message, commit.
//   download_transfers.cpp  the transfer loop (libcurl multi, one Transfer per chunk copy);
//                           accept_body() is where every body byte arrives.
//   download_scheduler.cpp  which chunk goes to which server: choose_chunk(), pacer, give-back.
//   download_outcomes.cpp   what an ended copy means: verified (advance_verified_prefix(), where
//                           the in-order verified prefix grows), strikes, backoff, drops, token.
//   download_progress.cpp   the Progress given to on_progress.
//   part_store.*            PATH.dfd-part / PATH.dfd-state: open, resume, write, save, commit.
//   http_fault.*            the HTTP status -> fault rule of a chunk request.
//
// Thread-safety: one Downloader runs once, on the calling thread; callbacks in the options are
// called on that thread. `interrupt` may be set from any thread or a signal handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifest.hpp"

namespace dfd::client {

class RateLimiter;  // rate_limiter.hpp

// One file server as the live view shows it (issue 13: `dfd get -v`).
struct ServerProgress {
  std::string id;
  std::string zone;
  std::string url;
  std::uint64_t bytes = 0;      // verified bytes this server delivered (this run)
  double speed = 0;             // bytes/s received from it over the last few seconds
  std::size_t connections = 0;  // requests in flight to it now
  // "transferring" (bytes arrived in the last second), "waiting" (requests open, no bytes yet),
  // "idle" (nothing asked of it now), "backing-off" (after a failure), "dropped".
  std::string state;
  std::string reason;  // why dropped or backing off (plain text from the last error); "" otherwise
};

struct Progress {
  std::uint64_t done_bytes = 0;  // verified + received in flight (resumed chunks included)
  std::uint64_t total_bytes = 0;
  double speed = 0;                      // bytes/s over the last few seconds
  double eta_s = -1;                     // -1 = unknown
  double elapsed_s = 0;                  // since run() started
  std::size_t servers_active = 0;        // servers with a request in flight
  std::size_t servers_usable = 0;        // servers not dropped
  std::size_t servers_transferring = 0;  // servers whose bytes arrived in the last second
  std::size_t chunks_total = 0;
  std::size_t chunks_verified = 0;      // resumed + verified this run
  std::size_t chunks_resumed = 0;       // trusted from the state file at start
  bool final = false;                   // the last call of a run (done, failed or stopped)
  std::vector<ServerProgress> servers;  // in manifest location order
};

struct DownloadOptions {
  std::string output;           // final path; PATH.dfd-part and PATH.dfd-state live next to it
  bool force = false;           // overwrite an existing output
  std::size_t connections = 0;  // total cap; 0 = min(16, per_server * servers), at least 8
  std::size_t per_server = 4;   // connections per file server
  std::chrono::milliseconds stall_timeout{5000};  // no byte for this long = failure
  // No byte for this long = silent: another server may take a second copy (docs/client.md).
  std::chrono::milliseconds silent_after{300};
  std::chrono::milliseconds connect_timeout{5000};
  // A request slower than min_speed bytes/s for min_speed_time fails like a stall (its chunk goes
  // to another server): a server trickling 1 byte/s cannot hold a chunk forever. 0 = off.
  long min_speed = 1024;
  std::chrono::seconds min_speed_time{20};
  // The whole download stops at `deadline` (steady clock; the epoch = none): exit kDeadline,
  // verified chunks kept for a rerun. `deadline_s` is only for the message.
  std::chrono::steady_clock::time_point deadline{};
  double deadline_s = 0;
  int max_strikes = 3;   // integrity/protocol faults before a server is dropped
  int max_failures = 5;  // consecutive transport failures (no success between) before a drop
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{2000};
  std::size_t stop_after_chunks = 0;  // test hook: behave as interrupted after N chunks (0 = off)
  const std::atomic<bool>* interrupt = nullptr;      // set → stop, keep state, kInterrupted
  std::function<void(const Progress&)> on_progress;  // ~4x per second, and once with final=true
  // Speed limits (issue 13), bytes/s, 0 = none: the whole download's body bytes, and each file
  // server's. Accurate to +-10 % over 10 s.
  double limit_rate = 0;
  double per_server_rate = 0;
  // Set: the limits of several downloads together (the files of one `dfd get`, also in parallel
  // threads), and limit_rate/per_server_rate are ignored. Unset: one made from them.
  std::shared_ptr<RateLimiter> rate_limiter;
  // false: no preallocation at all (a sparse part; used for -o -). true: the part is preallocated
  // only once the first chunk is verified (never before), and a part holding no verified chunk is
  // removed when the download fails.
  bool preallocate = true;
  // 0 = none. Otherwise only chunks starting before verified_prefix + window_bytes are requested
  // (the whole-file streaming window of -o -).
  std::uint64_t window_bytes = 0;
  // Called on the run() thread whenever the in-order verified prefix grows: bytes [0, n) of the
  // part file are verified and hashed for the whole-file digest, and the downloader will never
  // read or write them again (a caller may stream them and punch them out of the part file).
  std::function<void(std::uint64_t n)> on_prefix;
  // Fetches a fresh manifest (new download token) after a 401/403; nullopt + `error` on failure.
  std::function<std::optional<Manifest>(std::string& error)> renew;
};

struct ServerReport {
  std::string id;
  std::string zone;
  std::string url;
  std::uint64_t bytes = 0;  // verified bytes this server delivered (this run)
  std::size_t chunks = 0;   // verified chunks delivered
  std::size_t requests = 0;
  std::size_t retries = 0;  // requests that failed (any reason)
  std::size_t strikes = 0;  // integrity/protocol faults
  std::size_t duplicates_won = 0;
  std::size_t given_back = 0;  // copies cancelled because the server held more than its share
  bool dropped = false;
  std::string drop_reason;
  std::string last_error;
};

struct DownloadReport {
  bool ok = false;
  int exit_code = 1;
  std::string error;  // plain message when !ok
  std::string path;
  std::string uid;
  std::string name;
  std::uint64_t size = 0;
  std::string alg;
  std::uint64_t chunk_size = 0;
  std::size_t chunks_total = 0;
  std::size_t chunks_resumed = 0;    // trusted from the state file
  std::size_t chunks_fetched = 0;    // verified this run
  std::uint64_t bytes_fetched = 0;   // verified bytes this run
  std::uint64_t bytes_received = 0;  // all body bytes received this run (incl. failed/duplicates)
  std::size_t duplicates = 0;        // second copies requested (silent holder, or end game)
  std::size_t token_renewals = 0;
  bool restarted = false;  // a state file existed but did not match (started over)
  bool digest_verified = false;
  double seconds = 0;
  double average_speed = 0;  // bytes_fetched / seconds
  std::vector<ServerReport> servers;
};

nlohmann::json report_to_json(const DownloadReport& r);
// `last`: the run's last Progress, or null. A server that was not dropped but ended backing off
// (its last request failed) is shown with that state and its reason, never as "ok".
std::string report_to_text(const DownloadReport& r, const Progress* last = nullptr);

class Downloader {
 public:
  Downloader(Manifest manifest, DownloadOptions options);
  ~Downloader();
  Downloader(const Downloader&) = delete;
  Downloader& operator=(const Downloader&) = delete;

  // Runs the download to completion or failure. Never throws for download failures: they are in
  // the report (exit_code, error).
  DownloadReport run();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace dfd::client
