// One data-plane event-loop thread with its own epoll set (docs/file-server.md, "The data path").
//
// A loop drives its connections through reading a head → (parked while the token is unknown) →
// writing the response → reading the next head or lingering before the close, with
// non-blocking sockets registered once, edge-triggered. Loop 0 also owns the listener and hands
// accepted sockets round-robin to the loops. Each loop admits the sockets it receives against
// the shared connection quota: over a cap it first closes its own oldest idle connection (one
// waiting for a request), else answers 503 (or, beyond the refusal budget, just closes).
//
// Thread-safety: start()/join() from the controlling thread; wake(), post_tokens_changed() and
// hand_over() from any thread; everything else runs on the loop's own thread.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "content/connection.hpp"
#include "content/http_request.hpp"
#include "content/plane_context.hpp"
#include "content/response_writer.hpp"
#include "content/token_gate.hpp"
#include "log_time.hpp"
#include "request_id.hpp"

namespace dfd::host {

class EventLoop {
 public:
  EventLoop(PlaneContext& ctx, int index);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the epoll set and the wake-up eventfd; loop 0 registers the listener.
  Status init();
  void start();
  void join();

  void wake() noexcept;
  void post_tokens_changed() noexcept;
  // Gives this loop an accepted socket (and its peer's address_key()).
  void hand_over(int fd, std::string address);

 private:
  struct TimerEntry {
    SteadyTime t;
    std::uint64_t serial;
    bool operator>(const TimerEntry& o) const { return t > o.t; }
  };

  // The loop.
  void run();
  int wait_timeout_ms(bool stop_seen);
  void begin_stop();
  void on_wake();
  void on_accept();
  void resume_accepting();
  void warn_descriptors();
  // Connections.
  void add_conn(int fd, std::string address);
  bool admit(Conn& c);
  bool evict_idle(const std::string* address);
  void on_conn_event(Conn& c, std::uint32_t ev);
  void close_conn(Conn& c);
  void bury();
  Conn* find_conn(std::uint64_t serial);
  void set_state(Conn& c, ConnState s);
  // Timers.
  void set_deadline(Conn& c, SteadyTime t);
  void run_timers(SteadyTime now);
  void on_timeout(Conn& c);
  SteadyTime reading_deadline(const Conn& c) const;
  // I/O.
  bool read_in(Conn& c);
  bool handshake(Conn& c);
  void flush_body_bytes(Conn& c);
  void run_ready();
  void enqueue(Conn& c);
  void process(Conn& c);
  void consume(Conn& c, std::size_t n);
  void finish_response(Conn& c);
  // Requests.
  static ConnectionHeader connection_header(const Conn& c) {
    return {c.keep_alive, c.http10, c.request_id.view()};
  }
  // Issue 14: a request starts (its id: `given` when valid, else a fresh one; with an access log,
  // the entry's start) and ends (its access-log line, `complete` or cut off by a close).
  void begin_request(Conn& c, std::string_view method, std::string_view target,
                     std::string_view given_id);
  void log_access(Conn& c, bool complete);
  void hand_access_lines();
  void respond(Conn& c, BuiltResponse r, std::shared_ptr<OpenFile> file = nullptr);
  void error_response(Conn& c, int status, std::string_view code, std::string_view message,
                      bool head_only, std::string_view extra_headers = {});
  void deny(Conn& c, bool head_only, TokenVerdict v);
  void handle_request(Conn& c, const RequestHead& req);
  bool park(Conn& c, bool head_only, std::string uid, std::string_view token,
            const RequestHead& req);
  void release_parked(Conn& c);
  void recheck_parked();
  void resolve_parked(Conn& c, bool final);
  void lookup_and_serve(Conn& c, const std::string& uid, bool head_only, const RangeRequest& rr);

  PlaneContext& ctx_;
  int index_;
  int ep_ = -1;
  int wake_fd_ = -1;
  bool owns_listener_ = false;
  std::thread thread_;
  std::mutex inbox_mu_;
  std::vector<std::pair<int, std::string>> inbox_;
  std::atomic<bool> tokens_changed_{false};
  std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::list<Conn*> idle_;  // connections waiting for a request, oldest first
  std::vector<std::uint64_t> graveyard_;
  std::vector<std::uint64_t> ready_;
  std::vector<std::uint64_t> parked_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<TimerEntry>> timers_;
  OpenFileCache files_;
  TokenGate gate_;
  ResponseBuilder builder_;
  ResponseWriter writer_;
  std::unordered_map<int, Counter*> status_counters_;  // this loop's view of the metric family
  RequestIdGenerator request_ids_;
  LogTimeFormatter log_time_;
  std::string access_lines_;  // access-log lines of this turn, handed over by hand_access_lines()
  std::size_t rr_ = 0;
  SteadyTime accept_paused_until_ = kNever;
  SteadyTime descriptors_warned_ = SteadyTime::min();
  std::uint64_t descriptors_shed_ = 0;  // since the last warning
};

}  // namespace dfd::host
