#include "failover.hpp"

#include <algorithm>
#include <stdexcept>

namespace dfd::client {

ReplyClass classify_reply(CURLcode rc, long status) {
  switch (rc) {
    case CURLE_OK:
      return status >= 500 ? ReplyClass::kUnavailable : ReplyClass::kAnswer;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return ReplyClass::kFatal;
    default:  // refused, reset, handshake cut, timeout, nothing or half a reply, DNS, ...
      return ReplyClass::kUnavailable;
  }
}

Failover::Failover(std::vector<std::string> servers) : Failover(std::move(servers), Options{}) {}

Failover::Failover(std::vector<std::string> servers, Options options)
    : servers_(std::move(servers)),
      options_(options),
      round_size_(servers_.size()),
      last_reason_(servers_.size()),
      timed_out_(servers_.size(), false) {
  if (servers_.empty()) throw std::invalid_argument("Failover: no server");
  if (options_.rounds < 1) options_.rounds = 1;
}

void Failover::begin() {
  started_at_ = current_;
  failed_in_round_ = 0;
  round_size_ = servers_.size();
  round_ = 0;
  std::fill(last_reason_.begin(), last_reason_.end(), std::string());
  std::fill(timed_out_.begin(), timed_out_.end(), false);
}

void Failover::answered() {
  failed_in_round_ = 0;
}

Failover::Step Failover::unavailable(const std::string& reason, bool timed_out) {
  last_reason_[current_] = reason.empty() ? "unavailable" : reason;
  if (timed_out) timed_out_[current_] = true;
  auto live = static_cast<std::size_t>(std::count(timed_out_.begin(), timed_out_.end(), false));
  if (live > 0) {  // the next server this call may still ask, in list order
    do {
      current_ = (current_ + 1) % servers_.size();
    } while (timed_out_[current_]);
  }
  if (++failed_in_round_ < round_size_ && live > 0) return {};
  failed_in_round_ = 0;
  round_size_ = live;
  if (++round_ >= options_.rounds || live == 0) return {true, {}};
  auto wait = options_.first_backoff;
  for (int i = 1; i < round_ && wait < options_.max_backoff; ++i) wait *= 2;
  return {false, std::min(wait, options_.max_backoff)};
}

std::string Failover::tried() const {
  std::string out;
  for (std::size_t k = 0; k < servers_.size(); ++k) {
    std::size_t i = (started_at_ + k) % servers_.size();
    if (last_reason_[i].empty()) continue;
    out += (out.empty() ? "" : ", ") + servers_[i] + " (" + last_reason_[i] + ")";
  }
  return out;
}

}  // namespace dfd::client
