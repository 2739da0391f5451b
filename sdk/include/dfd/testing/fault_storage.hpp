// dfd SDK testing: a fault-injecting Storage wrapper (header-only; LevelDB's EnvWrapper idea).
//
// FaultStorage wraps any dfd::Storage and forwards every call to it (list, stat, open,
// known_digests and the handles' size/fd/read_at), except where a test told it to misbehave.
// Every switch below is thread-safe and may be flipped at any time, also while the host is
// serving from the wrapper on other threads:
//
//   fail_next(Call::kOpen, n, status)   the next n open() calls return `status` (also kStat,
//                                       kList, kKnownDigests, kReadAt); n < 0: every call until
//                                       reset_faults()
//   short_reads(k)                      read_at() returns at most k bytes per call (0: off)
//   slow_reads(d)                       read_at() sleeps d first (capped at kMaxReadDelay)
//   fail_reads_after(b, status)         a handle's read_at() fails with `status` once b bytes
//                                       were read from that handle since this call (the read that
//                                       would cross b returns the bytes up to b), and from then on
//   fail_read_call(n, status)           a handle's n-th read_at() since this call fails, and every
//                                       later one (n >= 1)
//   hide_descriptors(true)              handles' fd() returns -1: the host takes the read_at path
//   only_path(p)                        faults apply to path p only ("" = every path; list() and
//                                       fail_next(kList) are not per path)
//   after_next_read(f)                  runs f once, right after the next read_at() (on the
//                                       filtered path) returned, on the reading thread
//   reset_faults()                      every fault above off (counters kept)
//
// Read faults act on read_at() only: a host that sends from the descriptor (sendfile) never calls
// it, so combine them with hide_descriptors(true) when the host is the reader.
//
// Observation: calls(Call) counts calls per method (injected failures included), bytes_read()
// the bytes read_at() returned, injected() the calls that got an injected error, and
// threads(Call) the distinct thread ids that called open(), stat(), list(), known_digests() or a
// handle's read_at() (to check a storage is really called from several threads). reset_counts()
// zeroes them.
//
// start(), stop() and health() are forwarded too: a test that wraps an already started plugin
// simply does not call them.
//
// Lifetime: the wrapped storage must outlive the wrapper, and every handle the wrapper returned
// must be destroyed before the wrapper (a handle refers back to it). known_digests() is forwarded
// only when the wrapped storage has the slot: pass the wrapped plugin's abi_minor when it was
// built against a minor older than 4 (then the wrapper answers kNotSupported itself).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "dfd/plugin.hpp"
#include "dfd/storage.hpp"

namespace dfd::testing {

class FaultStorage : public Storage {
 public:
  enum class Call : std::size_t { kList, kStat, kOpen, kKnownDigests, kReadAt };
  static constexpr std::chrono::milliseconds kMaxReadDelay{1000};  // slow_reads() cap

  explicit FaultStorage(Storage& inner, std::uint32_t inner_abi_minor = kAbiMinor)
      : inner_(inner), inner_has_known_digests_(inner_abi_minor >= 4) {}
  FaultStorage(const FaultStorage&) = delete;
  FaultStorage& operator=(const FaultStorage&) = delete;

  // ---- switches (thread-safe, any time) ----
  void fail_next(Call call, int n, Status status) {
    std::lock_guard<std::mutex> g(mu_);
    Failure& f = fail_[index(call)];
    f.left = n;
    f.status = failure(std::move(status));
  }
  void short_reads(std::size_t max_bytes) {
    std::lock_guard<std::mutex> g(mu_);
    short_reads_ = max_bytes;
  }
  void slow_reads(std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> g(mu_);
    delay_ = std::clamp(delay, std::chrono::milliseconds(0), kMaxReadDelay);
  }
  void fail_reads_after(std::uint64_t bytes, Status status) {
    std::lock_guard<std::mutex> g(mu_);
    arm_read_fault(bytes, 0, std::move(status));
  }
  void fail_read_call(std::uint64_t nth, Status status) {
    std::lock_guard<std::mutex> g(mu_);
    arm_read_fault(0, std::max<std::uint64_t>(nth, 1), std::move(status));
  }
  void hide_descriptors(bool hide) { hide_fd_.store(hide); }
  void only_path(std::string path) {
    std::lock_guard<std::mutex> g(mu_);
    path_ = std::move(path);
  }
  void after_next_read(std::function<void()> hook) {
    std::lock_guard<std::mutex> g(mu_);
    after_read_ = std::move(hook);
  }
  void reset_faults() {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& f : fail_) f = Failure{};
    short_reads_ = 0;
    delay_ = std::chrono::milliseconds(0);
    arm_read_fault(0, 0, Status::Ok());  // a new generation: handles count afresh
    read_fault_.armed = false;
    path_.clear();
    after_read_ = nullptr;
    hide_fd_.store(false);
  }

  // ---- observation (thread-safe) ----
  std::uint64_t calls(Call call) const {
    std::lock_guard<std::mutex> g(mu_);
    return calls_[index(call)];
  }
  std::set<std::thread::id> threads(Call call) const {
    std::lock_guard<std::mutex> g(mu_);
    return threads_[index(call)];
  }
  std::uint64_t bytes_read() const {
    std::lock_guard<std::mutex> g(mu_);
    return bytes_read_;
  }
  std::uint64_t injected() const {
    std::lock_guard<std::mutex> g(mu_);
    return injected_;
  }
  void reset_counts() {
    std::lock_guard<std::mutex> g(mu_);
    calls_ = {};
    for (auto& t : threads_) t.clear();
    bytes_read_ = injected_ = 0;
  }

  // ---- Storage ----
  Status start() noexcept override { return inner_.start(); }
  void stop() noexcept override { inner_.stop(); }
  Health health() const noexcept override { return inner_.health(); }

  Result<std::vector<FileEntry>> list() noexcept override {
    if (auto s = enter(Call::kList, {}, /*per_path=*/false); !s.ok()) return s;
    return inner_.list();
  }
  Result<FileEntry> stat(std::string_view path) noexcept override {
    if (auto s = enter(Call::kStat, path, true); !s.ok()) return s;
    return inner_.stat(path);
  }
  Result<std::unique_ptr<ReadHandle>> open(std::string_view path) noexcept override {
    if (auto s = enter(Call::kOpen, path, true); !s.ok()) return s;
    auto h = inner_.open(path);
    if (!h.ok()) return h.status();
    try {
      return std::unique_ptr<ReadHandle>(
          std::make_unique<Handle>(*this, std::string(path), std::move(h.value())));
    } catch (...) {
      return Status::Internal("FaultStorage: out of memory");
    }
  }
  Result<KnownDigests> known_digests(std::string_view path) noexcept override {
    if (auto s = enter(Call::kKnownDigests, path, true); !s.ok()) return s;
    if (!inner_has_known_digests_) return Storage::known_digests(path);
    return inner_.known_digests(path);
  }

 private:
  struct Failure {
    int left = 0;  // < 0: for ever
    Status status;
  };
  // A read fault; handles count bytes and calls per `generation` (re-armed: counted afresh).
  struct ReadFault {
    std::uint64_t generation = 0;
    bool armed = false;
    std::uint64_t after_bytes = 0;
    std::uint64_t on_call = 0;  // 0: by bytes
    Status status;
  };

  class Handle : public ReadHandle {
   public:
    Handle(FaultStorage& owner, std::string path, std::unique_ptr<ReadHandle> inner)
        : owner_(owner), path_(std::move(path)), inner_(std::move(inner)) {}
    std::uint64_t size() const noexcept override { return inner_->size(); }
    int fd() const noexcept override { return owner_.hide_fd_.load() ? -1 : inner_->fd(); }
    Result<std::size_t> read_at(std::uint64_t offset, void* buf,
                                std::size_t len) noexcept override {
      return owner_.read_through(*this, offset, buf, len);
    }

   private:
    friend class FaultStorage;
    FaultStorage& owner_;
    const std::string path_;
    std::unique_ptr<ReadHandle> inner_;
    // Guarded by owner_.mu_: what this handle read under the current read fault.
    std::uint64_t generation_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t calls_ = 0;
  };

  static constexpr std::size_t index(Call c) { return static_cast<std::size_t>(c); }

  void arm_read_fault(std::uint64_t bytes, std::uint64_t nth, Status status) {
    read_fault_ =
        ReadFault{read_fault_.generation + 1, true, bytes, nth, failure(std::move(status))};
  }
  // An injected status is never Ok (a caller passing Ok still gets a failure).
  static Status failure(Status s) {
    return s.ok() ? Status::Internal("FaultStorage: injected failure") : s;
  }
  bool applies(std::string_view path) const { return path_.empty() || path == path_; }

  // Counts a call and returns the injected failure, if any.
  Status enter(Call call, std::string_view path, bool per_path) noexcept {
    std::lock_guard<std::mutex> g(mu_);
    ++calls_[index(call)];
    try {
      threads_[index(call)].insert(std::this_thread::get_id());
    } catch (...) {
    }
    Failure& f = fail_[index(call)];
    if (f.left == 0 || (per_path && !applies(path))) return Status::Ok();
    if (f.left > 0) --f.left;
    ++injected_;
    return f.status;
  }

  Result<std::size_t> read_through(Handle& h, std::uint64_t offset, void* buf,
                                   std::size_t len) noexcept {
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard<std::mutex> g(mu_);
      ++calls_[index(Call::kReadAt)];
      try {
        threads_[index(Call::kReadAt)].insert(std::this_thread::get_id());
      } catch (...) {
      }
      if (applies(h.path_)) {
        Failure& f = fail_[index(Call::kReadAt)];
        if (f.left != 0) {
          if (f.left > 0) --f.left;
          ++injected_;
          return f.status;
        }
        if (h.generation_ != read_fault_.generation) {
          h.generation_ = read_fault_.generation;
          h.bytes_ = h.calls_ = 0;
        }
        ++h.calls_;
        const ReadFault& rf = read_fault_;
        if (rf.armed) {
          bool fail = rf.on_call > 0 ? h.calls_ >= rf.on_call : h.bytes_ >= rf.after_bytes;
          if (fail) {
            ++injected_;
            return rf.status;
          }
          if (rf.on_call == 0) {
            len = static_cast<std::size_t>(std::min<std::uint64_t>(len, rf.after_bytes - h.bytes_));
          }
        }
        if (short_reads_ > 0) len = std::min(len, short_reads_);
        delay = delay_;
      }
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    auto r = h.inner_->read_at(offset, buf, len);
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (r.ok()) {
        bytes_read_ += *r;
        if (applies(h.path_)) h.bytes_ += *r;
      }
      if (after_read_ && applies(h.path_)) {
        hook = std::move(after_read_);
        after_read_ = nullptr;
      }
    }
    if (hook) hook();
    return r;
  }

  Storage& inner_;
  const bool inner_has_known_digests_;
  std::atomic<bool> hide_fd_{false};
  mutable std::mutex mu_;
  std::array<Failure, 5> fail_{};  // per Call
  std::size_t short_reads_ = 0;
  std::chrono::milliseconds delay_{0};
  ReadFault read_fault_;
  std::string path_;
  std::function<void()> after_read_;
  std::array<std::uint64_t, 5> calls_{};
  std::array<std::set<std::thread::id>, 5> threads_;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t injected_ = 0;
};

}  // namespace dfd::testing
