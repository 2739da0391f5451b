#include "server_pacer.hpp"

namespace dfd::client {

ServerPacer::ServerPacer(std::chrono::milliseconds window, double alpha)
    : window_(window), alpha_(alpha) {}

void ServerPacer::resize(std::size_t servers) {
  if (servers > servers_.size()) servers_.resize(servers);
}

void ServerPacer::on_bytes(std::size_t server, std::uint64_t n) {
  if (server < servers_.size()) servers_[server].window_bytes += n;
}

void ServerPacer::tick(Clock::time_point now, const std::vector<bool>& busy) {
  auto busy_at = [&](std::size_t i) { return i < busy.size() && busy[i]; };
  if (open_ && now - opened_ < window_) return;
  double seconds = std::chrono::duration<double>(now - opened_).count();
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    auto& s = servers_[i];
    if (open_ && s.busy_at_open && busy_at(i) && seconds > 0) {
      double sample = static_cast<double>(s.window_bytes) / seconds;
      s.rate = s.measured ? (1 - alpha_) * s.rate + alpha_ * sample : sample;
      s.measured = true;
    }
    s.window_bytes = 0;
    s.busy_at_open = busy_at(i);
  }
  opened_ = now;
  open_ = true;
}

double ServerPacer::total_rate(const std::vector<bool>& usable) const {
  double total = 0;
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (i < usable.size() && usable[i]) total += servers_[i].rate;
  }
  return total;
}

// Both rules compare a server's time to clear `owed` bytes, owed / mine, with the time everything
// left needs, remaining / total, multiplied out so that a measured rate of 0 (a stopped server)
// needs no special case.
bool ServerPacer::may_start(std::size_t server, std::size_t in_flight, std::uint64_t backlog,
                            std::uint64_t chunk_bytes, std::uint64_t remaining,
                            const std::vector<bool>& usable) const {
  const auto& s = servers_.at(server);
  double total = total_rate(usable);
  if (!s.measured || total <= 0) return true;  // nothing to go by yet
  double need = static_cast<double>(backlog + chunk_bytes) * total;
  double left = static_cast<double>(remaining) * s.rate;
  if (in_flight == 0) {
    // Never starved: an idle server gets one chunk (so its rate stays measured and a recovered
    // link gets its share back), except in the last kTail chunks of the download if it would
    // need more than twice the time everything left needs (the end game would fetch it twice).
    return remaining >= kTail * chunk_bytes || need <= 2 * left;
  }
  return need <= left;
}

bool ServerPacer::overcommitted(std::size_t server, std::size_t in_flight, std::uint64_t backlog,
                                std::uint64_t remaining, const std::vector<bool>& usable) const {
  if (in_flight < 2) return false;  // its last copy stays
  const auto& s = servers_.at(server);
  double total = total_rate(usable);
  if (!s.measured || total <= 0) return false;
  return static_cast<double>(backlog) * total > 1.5 * static_cast<double>(remaining) * s.rate;
}

}  // namespace dfd::client
