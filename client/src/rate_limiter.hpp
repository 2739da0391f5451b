// Speed limits of `dfd get` (issue 13): --limit-rate (the whole download, every server together)
// and --per-server-rate (each file server), as token buckets the transfer loop asks before it
// lets a transfer take more bytes. Pure logic: the caller passes the clock, so tests drive it.
//
// How it is used (transfer_loop): the body callback of a transfer from server S first asks
// may_receive(S); on false it returns CURL_WRITEFUNC_PAUSE (libcurl keeps that piece and stops
// reading the socket, so TCP backpressure slows the server), otherwise it accepts the piece and
// calls received(S, n). A piece is always accepted whole even when it takes a bucket below zero:
// the debt is paid back by pausing longer, so over any longer span the rate is exact (no piece is
// split, no token lost). The loop unpauses a paused transfer when may_receive(S) turns true again,
// and while anything is paused it sleeps at most until_open(S) (nothing spins).
//
// Why pause/unpause and not CURLOPT_MAX_RECV_SPEED_LARGE split among the transfers: a per-handle
// limit only sees its own handle, so a share held by a transfer that is still connecting or
// waiting for headers is lost (the download runs slower than asked), every new chunk's handle
// starts a new measurement, and duplicates (second copies of one chunk) would each need a share
// recomputed on every start and finish. One bucket counts every byte of every transfer, copies
// included, whatever the number of connections.
//
// Hysteresis: a bucket that went below zero reopens only once it holds `resume level` tokens
// (rate x 20 ms), so a throttled download wakes the loop about 50 times a second, not once per
// piece. Burst: at most rate x 100 ms of unused tokens are kept (a pause in the download does not
// buy a later burst).
//
// Several files of one command (`dfd get A B --parallel 2 --limit-rate 20M`) share one
// RateLimiter (DownloadOptions::rate_limiter): the limits are the command's, and a server serving
// both files has one bucket (server_slot() by its URL).
//
// Thread-safety: TokenBucket none. RateLimiter: every member may be called from any thread (the
// parallel downloads of one command run on threads of their own).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace dfd::client {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate` bytes/s; 0 (or less) = no limit: always open. Starts full.
  explicit TokenBucket(double rate = 0, Clock::time_point now = Clock::now());

  bool limited() const { return rate_ > 0; }
  double rate() const { return rate_; }
  // Tokens now (may be negative: a debt). Refills first.
  double tokens(Clock::time_point now);
  // May bytes be taken now? False from the moment the bucket goes below zero until it holds the
  // resume level again.
  bool open(Clock::time_point now);
  // Takes `n` bytes (the bucket may go below zero).
  void take(double n, Clock::time_point now);
  // How long until open() turns true (zero when it is open now).
  Clock::duration until_open(Clock::time_point now);

 private:
  void refill(Clock::time_point now);
  double rate_ = 0;
  double capacity_ = 0;  // most tokens kept (the burst)
  double resume_ = 0;    // a closed bucket reopens at this level
  double tokens_ = 0;
  bool closed_ = false;
  Clock::time_point last_;
};

class RateLimiter {
 public:
  using Clock = TokenBucket::Clock;

  // `total` bytes/s for the whole download, `per_server` bytes/s for each server; 0 = none.
  RateLimiter(double total, double per_server, Clock::time_point now = Clock::now());
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Is any limit set?
  bool limited() const { return total_.limited() || per_server_rate_ > 0; }
  // Is the whole download limited (not only each server)?
  bool limits_total() const { return total_.limited(); }
  // The bucket index of the file server known as `key` (its URL): the same for every download
  // sharing this limiter, made on first use.
  std::size_t server_slot(const std::string& key);
  // May a transfer from server `server` (a server_slot(), or any index: buckets are made on
  // first use) take bytes now?
  bool may_receive(std::size_t server, Clock::time_point now);
  // `n` body bytes from `server` were accepted.
  void received(std::size_t server, std::size_t n, Clock::time_point now);
  // How long until may_receive(server) turns true (zero if it is true now).
  Clock::duration until_open(std::size_t server, Clock::time_point now);
  // The receive buffer a transfer should use (CURLOPT_BUFFERSIZE): a libcurl piece is at most
  // this, so one piece is a debt of at most ~1/32 s of the smallest limit; between 1 KiB (libcurl's
  // least) and 512 KiB. `fallback` when no limit is set.
  long read_size(long fallback) const;
  // Each transfer's share of the smallest limit with `connections` in flight (for the lowest
  // speed a throttled transfer can be expected to keep); 0 = no limit.
  double share(std::size_t connections_total, std::size_t connections_per_server) const;

 private:
  TokenBucket& bucket(std::size_t server, Clock::time_point now);  // mu_ held
  std::mutex mu_;
  TokenBucket total_;  // its rate and per_server_rate_ never change: read without mu_
  double per_server_rate_ = 0;
  std::vector<TokenBucket> servers_;
  std::map<std::string, std::size_t> slots_;
};

}  // namespace dfd::client
