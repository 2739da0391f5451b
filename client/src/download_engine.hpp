// DownloadEngine, the `dfd get` engine behind Downloader, split by concern (internal to the client
// library).
//
//   downloader.cpp          run(): open the part, the attempts (a second one re-checks resumed
//                           chunks after a whole-file digest mismatch), the result message,
//                           commit; the end of a run.
//   download_transfers.cpp  the transfer loop: libcurl multi, one Transfer per chunk copy, the
//                           response checks, accept_body() (every body byte goes through it),
//                           reap/stalls/cancel.
//   download_scheduler.cpp  which chunk goes to which server: choose_chunk() (rescue of silent
//                           copies, fresh chunks, end-game duplicates), the pacer, give-back of
//                           overcommitted copies, round-robin over servers.
//   download_outcomes.cpp   what an ended copy means: verified (advance_verified_prefix()),
//                           strikes, backoff, drops, token renewal.
//   download_progress.cpp   the Progress callback.
//   download_throttle.cpp   --limit-rate / --per-server-rate: the limiter's pause and resume of
//                           transfers (rate_limiter.hpp).
//   download_window.cpp     the streaming hooks of -o -: window_bytes and on_prefix.
//   part_store.{hpp,cpp}    PATH.dfd-part and PATH.dfd-state: open/resume, write, save, reverify,
//                           commit (a class of its own).
//   http_fault.{hpp,cpp}    the HTTP status -> Fault rule.
//
// Everything runs on the thread that called Downloader::run() (HashWorker and PrefixHasher have
// their own threads and only get bytes handed to them).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chunk_planner.hpp"
#include "curl_policy.hpp"
#include "download_progress.hpp"
#include "downloader.hpp"
#include "hash_worker.hpp"
#include "http_fault.hpp"
#include "part_store.hpp"
#include "prefix_hasher.hpp"
#include "rate_limiter.hpp"
#include "server_pacer.hpp"

namespace dfd::client {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct DownloadEngine;

// One file server of the download.
struct FileServer {
  Location location;
  ServerReport report;
  std::size_t in_flight = 0;  // copies holding one of its connection slots
  int consecutive_failures = 0;
  Clock::time_point backoff_until{};
  double ema_chunk_s = 0;          // smoothed seconds per full chunk on this server
  std::uint64_t received = 0;      // body bytes received from it (any copy)
  Clock::time_point last_bytes{};  // when body bytes last arrived from it
  RateWindow speed;
};

// One request for one copy of one chunk.
struct Transfer {
  DownloadEngine* owner = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  int server = -1;
  std::size_t chunk = 0;
  bool duplicate = false;  // second copy: bytes kept in `buffer`, written only if it wins
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t received = 0;
  std::shared_ptr<HashWorker::Stream> digest;  // computed by the hash worker from the bytes
  bool slot_freed = false;    // body done, digest pending: the server slot was given back already
  char* block = nullptr;      // HashWorker block being filled with the next bytes
  std::size_t fill = 0;       // bytes in `block`
  std::uint64_t flushed = 0;  // bytes already written (or buffered) and submitted for hashing
  std::string buffer;
  long status = 0;
  std::string content_range;
  HeaderBudget header_bytes;
  bool checked = false;    // status and Content-Range accepted
  bool throttled = false;  // paused by the speed limiter: its next bytes wait inside libcurl
  Fault fault = Fault::kNone;
  std::string why;
  int io_error = 0;
  std::string token;  // the download token this request carries
  Clock::time_point start;
  Clock::time_point last_data;
  char errbuf[CURL_ERROR_SIZE] = {0};
};

using TransferList = std::list<std::unique_ptr<Transfer>>;

struct DownloadEngine {
  DownloadEngine(Manifest m, DownloadOptions o);
  ~DownloadEngine();
  DownloadEngine(const DownloadEngine&) = delete;
  DownloadEngine& operator=(const DownloadEngine&) = delete;

  // ------------------------------------------------------------ state
  Manifest manifest;
  DownloadOptions options;
  DownloadReport report;
  PartStore part;
  std::string download_token;  // the newest; renewed after a 401/403
  std::vector<FileServer> servers;
  CURLM* multi = nullptr;
  TransferList transfers;  // copies receiving their body
  TransferList verifying;  // complete bodies waiting for their digest
  std::unique_ptr<HashWorker> hash_worker;
  std::unique_ptr<ChunkPlanner> planner;
  ServerPacer pacer;  // per-server rates: how many chunks each may hold (server_pacer.hpp)
  std::unique_ptr<PrefixHasher> prefix_hasher;
  std::size_t max_transfers = 8;  // copies in flight at once, all servers
  std::size_t max_duplicates = 4;
  std::size_t active_duplicates = 0;
  bool fatal = false;  // a local error ends the download: fatal_code, fatal_message
  int fatal_code = 0;
  std::string fatal_message;
  std::size_t round_robin = 0;    // the server scheduling starts with next
  std::deque<int> freed_servers;  // servers that just freed a slot get the next chunk first
  Clock::time_point started{};    // run() began
  RateWindow speed;               // of report.bytes_received
  // The speed limits: the command's (shared by its downloads), or this download's own.
  std::shared_ptr<RateLimiter> limiter =
      options.rate_limiter
          ? options.rate_limiter
          : std::make_shared<RateLimiter>(options.limit_rate, options.per_server_rate);
  std::vector<std::size_t> limiter_slots;  // per server: its bucket in `limiter` (by URL)
  std::size_t unthrottle_first = 0;        // rotates: each paused transfer gets to resume first

  void fail_fatal(int code, std::string message);

  // ------------------------------------------------------------ downloader.cpp: the run
  DownloadReport run();
  void run_inner();
  void set_result(int code, std::string message);
  std::string all_servers_failed_message() const;
  std::size_t verified_chunks() const;  // resumed + verified this run
  std::string kept_message() const;
  void add_server(const Location& loc);

  // ------------------------------------------------------------ download_transfers.cpp
  int loop();  // until every chunk is verified (0) or a stop condition (its exit code)
  void start_transfer(int server, std::size_t chunk, bool duplicate, Clock::time_point now);
  static size_t on_header(char* p, size_t size, size_t n, void* transfer);
  static size_t on_body(char* p, size_t size, size_t n, void* transfer);
  bool check_response(Transfer& t);  // status and Content-Range, before the first body byte
  // Every body byte of every copy arrives here: gathered into blocks, written at its offset (a
  // duplicate keeps it in memory) and hashed. Returns n, or 0 to abort the transfer (t.fault).
  size_t accept_body(Transfer& t, const char* p, size_t n);
  int flush(Transfer& t);  // errno
  void reap();
  void check_digests();
  void check_stalls(Clock::time_point now);
  void cancel_all();
  void destroy_easy(Transfer& t);
  void remove_ended();
  bool hook_stop() const;
  Transfer* find_copy(std::size_t chunk, int server);

  // ------------------------------------------------------------ download_scheduler.cpp
  struct ChunkChoice {
    std::size_t chunk;
    bool duplicate;
  };
  void schedule(Clock::time_point now);
  bool try_start_on(int server, Clock::time_point now);
  // The chunk `server` should fetch next, if any (it may take one: try_start_on checked).
  std::optional<ChunkChoice> choose_chunk(int server, Clock::time_point now);
  bool usable(const FileServer& s, Clock::time_point now) const;
  bool silent(const Transfer& t, Clock::time_point now) const;
  bool has_silent_copy(int server, Clock::time_point now) const;
  bool worth_duplicating(std::size_t chunk, int holder, int idle, Clock::time_point now);
  struct Load {
    std::vector<std::uint64_t> backlog;
    std::uint64_t remaining = 0;
    std::vector<bool> usable;
  };
  Load load() const;
  bool paced(int server) const;
  void give_back_overcommitted(Clock::time_point now);
  void pace(Clock::time_point now);

  // ------------------------------------------------------------ download_outcomes.cpp
  void finish(Transfer& t, Fault fault, const std::string& why, Clock::time_point now);
  void succeed(Transfer& t, FileServer& s, Clock::time_point now);
  void advance_verified_prefix();
  void transport_failure(FileServer& s, const std::string& why, Clock::time_point now);
  void strike(FileServer& s, const std::string& why, Clock::time_point now);
  void drop(FileServer& s, const std::string& why);
  bool renew_token();
  void save_state(bool always);

  // ------------------------------------------------------------ download_throttle.cpp
  // In the body callback: may `t` take these `n` bytes now (they are counted), or must it pause
  // (t.throttled; the callback returns CURL_WRITEFUNC_PAUSE)?
  bool admit(Transfer& t, std::size_t n);
  // Resumes the paused transfers whose limits allow it again; returns how long until the next
  // one may resume (Clock::duration::max() when none is paused).
  Clock::duration unthrottle(Clock::time_point now);
  // libcurl's receive buffer and low-speed limit of a new transfer under the speed limits.
  long receive_buffer() const;
  long min_speed() const;
  std::size_t limiter_slot(int server);

  // ------------------------------------------------------------ download_window.cpp (-o -)
  std::uint64_t prefix_reported = 0;  // bytes [0, n) handed to options.on_prefix
  // options.window_bytes: may the next fresh chunk be fetched now?
  bool next_chunk_in_window() const;
  // options.on_prefix with what the whole-file hasher has consumed (the last chunk only when
  // `final`: after the whole-file digest matched).
  void report_prefix(bool final);

  // ------------------------------------------------------------ download_progress.cpp
  Progress progress(Clock::time_point now, bool final);
  void report_progress(Clock::time_point now, bool final = false);
};

}  // namespace dfd::client
