// auth-postgres: the thread that deletes expired rows, so no caller waits for a purge.
//
// From start() to stop() it runs `purge` every `every` (real time), and soon
// after kick() (called by writers every 1024 writes). Several servers on one database each purge;
// the DELETEs are idempotent. `purge` must not throw and logs its own failures.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace dfd::auth_postgres {

class Purger {
 public:
  Purger(std::function<void()> purge, std::chrono::milliseconds every)
      : purge_(std::move(purge)), every_(every) {}
  ~Purger() { stop(); }
  Purger(const Purger&) = delete;
  Purger& operator=(const Purger&) = delete;

  void start();
  void stop();  // waits for a running purge; idempotent
  void kick();  // a purge soon (no-op when not started)

 private:
  void loop();
  std::function<void()> purge_;
  std::chrono::milliseconds every_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;    // guarded by mu_
  bool kicked_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace dfd::auth_postgres
