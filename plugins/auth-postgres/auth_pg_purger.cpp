#include "auth_pg_purger.hpp"

namespace dfd::auth_postgres {

void Purger::start() {
  std::lock_guard<std::mutex> g(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  kicked_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Purger::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Purger::kick() {
  {
    std::lock_guard<std::mutex> g(mu_);
    kicked_ = true;
  }
  cv_.notify_one();
}

void Purger::loop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait_for(l, every_, [&] { return stop_ || kicked_; });
    if (stop_) return;
    kicked_ = false;
    l.unlock();
    purge_();
    l.lock();
  }
}

}  // namespace dfd::auth_postgres
