#include "server_pacer.hpp"

#include <stdexcept>

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
      s.rate = s.rate > 0 ? (1 - alpha_) * s.rate + alpha_ * sample : sample;
    }
    s.window_bytes = 0;
    s.busy_at_open = busy_at(i);
  }
  opened_ = now;
  open_ = true;
}

double ServerPacer::horizon(std::uint64_t remaining, const std::vector<bool>& usable) const {
  double total = 0;
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (i < usable.size() && usable[i]) total += servers_[i].rate;
  }
  return total > 0 ? static_cast<double>(remaining) / total : 0;
}

bool ServerPacer::may_start(std::size_t server, std::size_t in_flight, std::uint64_t backlog,
                            std::uint64_t chunk_bytes, std::uint64_t remaining,
                            const std::vector<bool>& usable) const {
  if (in_flight == 0) return true;  // never starved: one chunk keeps its rate measured
  double mine = servers_.at(server).rate;
  double h = horizon(remaining, usable);
  if (mine <= 0 || h <= 0) return true;  // not measured yet
  return static_cast<double>(backlog + chunk_bytes) / mine <= h;
}

bool ServerPacer::overcommitted(std::size_t server, std::size_t in_flight, std::uint64_t backlog,
                                std::uint64_t remaining, const std::vector<bool>& usable) const {
  if (in_flight < 2) return false;  // its last copy stays
  double mine = servers_.at(server).rate;
  double h = horizon(remaining, usable);
  if (mine <= 0 || h <= 0) return false;
  return static_cast<double>(backlog) / mine > 1.5 * h;
}

}  // namespace dfd::client
