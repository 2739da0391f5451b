#include "pg_pool.hpp"

#include <chrono>

namespace dfd::pg {

Result<std::unique_ptr<Pool>> Pool::open(Settings s, std::string who) {
  std::unique_ptr<Pool> p(new Pool(std::move(s), std::move(who)));
  auto first = p->lease();
  if (!first.ok()) return first.status();
  return p;  // the first connection went back to the pool with the lease
}

Pool::~Pool() {
  std::lock_guard<std::mutex> g(mu_);
  idle_.clear();
}

Pool::Lease::~Lease() {
  if (c_) pool_->give_back(std::move(c_));
}

void Pool::Lease::discard() {
  if (!c_) return;
  c_.reset();
  std::lock_guard<std::mutex> g(pool_->mu_);
  --pool_->open_;
  pool_->freed_.notify_one();
}

void Pool::give_back(std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> g(mu_);
  if (c->idle()) {
    idle_.push_back(std::move(c));
  } else {
    if (c->lost()) ++stats_.lost;
    c.reset();  // lost, or left inside a transaction
    --open_;
  }
  freed_.notify_one();
}

Result<Pool::Lease> Pool::lease() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.connect_timeout_ms);
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      l.unlock();
      if (c->still_open()) return Lease(this, std::move(c));
      c.reset();  // closed by the server while idle: replace it
      l.lock();
      --open_;
      ++stats_.lost;
    }
    if (open_ < settings_.pool_size) {
      ++open_;
      l.unlock();
      auto c = Connection::open(settings_, who_);
      l.lock();
      if (!c.ok()) {
        --open_;
        freed_.notify_one();
        return c.status();
      }
      ++stats_.opened;
      return Lease(this, std::move(c.value()));
    }
    if (freed_.wait_until(l, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= settings_.pool_size) {
      ++stats_.lease_timeouts;
      return Status::ResourceExhausted(who_ + ": all " + std::to_string(settings_.pool_size) +
                                       " PostgreSQL connections stayed busy for " +
                                       std::to_string(settings_.connect_timeout_ms) +
                                       " ms (pool_size)");
    }
  }
}

template <typename Fn>
auto Pool::with_retry(Retry retry, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  for (int attempt = 0;; ++attempt) {
    auto lease = this->lease();
    if (!lease.ok()) return lease.status();
    auto r = fn(*lease.value());
    if (r.ok() || !lease.value()->lost() || retry != Retry::kSafe || attempt > 0) return r;
    {
      std::lock_guard<std::mutex> g(mu_);
      ++stats_.retries;
    }
  }
}

Result<Rows> Pool::run(const Statement& st, const Params& params, Retry retry) {
  return with_retry(retry, [&](Connection& c) { return c.run(st, params); });
}

Status Pool::transaction(Retry retry, const std::function<Status(Connection&)>& body) {
  return with_retry(retry, [&](Connection& c) -> Status {
    auto begin = c.exec("BEGIN");
    if (!begin.ok()) return begin.status();
    Status st = body(c);
    if (st.ok()) {
      auto commit = c.exec("COMMIT");
      if (commit.ok()) return Status::Ok();
      st = commit.status();
    }
    if (!c.lost()) (void)c.exec("ROLLBACK");
    return st;
  });
}

Pool::Stats Pool::stats() const {
  std::lock_guard<std::mutex> g(mu_);
  Stats s = stats_;
  s.open = open_;
  s.idle = static_cast<int>(idle_.size());
  return s;
}

}  // namespace dfd::pg
