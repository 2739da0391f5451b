// How one info-API call moves between the info servers of a list (issue 16). Pure logic, no I/O:
// InfoApi (api_client.cpp) asks classify_reply() what an attempt's result means and Failover
// which server to try next and how long to wait first.
//
// The rule: a server that cannot be reached (connect failure, reset, TLS handshake cut, timeout)
// or answers 5xx is *unavailable* and the call moves on to the next server of the list at once.
// Any other answer (2xx, 3xx, 4xx) is *the* answer: a 401 or 404 from one server is what every
// server of a shared database would say, so it is not asked again elsewhere. A TLS setup problem
// on our side (an untrusted certificate, an unreadable CA bundle or client certificate) is
// *fatal*: it is reported as it is, not hidden behind the next server. When every server of the
// list was unavailable (a round), the call waits (1 s, then 2 s, bounded) and tries the whole
// list again, at most `rounds` rounds in all, then gives up naming every server and its reason.
// A server that did not answer within the attempt timeout (--timeout, issue 13) had its whole
// chance: it is not asked again by the same call, so one hung server costs one timeout, and a
// list of hung servers fails after one timeout each, not after `rounds` of them.
// A server that answered stays the first one asked by the next call of the same Failover, so a
// dead server costs one failed connect per command, not one per call.
//
// Thread-safety: none; one Failover per InfoApi, used by one thread at a time.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace dfd::client {

enum class ReplyClass {
  kAnswer,       // the server answered; its reply (success or a 4xx error) is final
  kUnavailable,  // try the next server
  kFatal,        // a local TLS setup problem: report it, ask no other server
};

// `rc`: libcurl's result of the transfer; `status`: the HTTP status (read only when rc is OK).
ReplyClass classify_reply(CURLcode rc, long status);

class Failover {
 public:
  struct Options {
    int rounds = 3;                                    // whole-list passes before giving up (>= 1)
    std::chrono::milliseconds first_backoff{1000};     // wait after the first failed round
    std::chrono::milliseconds max_backoff{2000};       // the wait doubles up to this
    std::chrono::milliseconds attempt_timeout{10000};  // one request to one server, at most
  };
  struct Step {
    bool give_up = false;
    std::chrono::milliseconds wait{0};  // before asking current() (0: at once)
  };

  // `servers`: normalized base URLs, at least one (std::invalid_argument otherwise).
  explicit Failover(std::vector<std::string> servers);
  Failover(std::vector<std::string> servers, Options options);

  const std::vector<std::string>& servers() const { return servers_; }
  // The server the next attempt goes to.
  const std::string& current() const { return servers_[current_]; }
  const Options& options() const { return options_; }

  // A new call starts: forgets the previous call's attempts (current() is kept).
  void begin();
  // current() answered: it stays current() for the next calls.
  void answered();
  // current() was unavailable for `reason`: moves to the next server; says whether to wait
  // first or to give up (every round spent, or every server timed out). `timed_out`: it did not
  // answer within the attempt timeout; this call asks it no more.
  Step unavailable(const std::string& reason, bool timed_out = false);

  // Every server this call asked, once each in list order from where the call began, with the
  // reason of its last failure: "http://a:1 (connection refused), http://b:2 (HTTP 503: busy)".
  std::string tried() const;
  int rounds_done() const { return round_; }

 private:
  std::vector<std::string> servers_;
  Options options_;
  std::size_t current_ = 0;
  std::size_t started_at_ = 0;
  std::size_t failed_in_round_ = 0;
  std::size_t round_size_ = 0;  // servers asked in this round (those that have not timed out)
  int round_ = 0;
  std::vector<std::string> last_reason_;  // per server, this call; "" = not asked
  std::vector<bool> timed_out_;           // per server, this call
};

}  // namespace dfd::client
