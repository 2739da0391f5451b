// In-test doubles of the Auth and Broker kinds for logic tests of info-sqlite (allowed for pure
// logic; the real plugins are exercised in info_real_plugins_test.cpp). Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <dlfcn.h>

#include "dfd/dfd.hpp"
#include "dfd/events.hpp"
#include "harness.hpp"

namespace dfd::test {

// Keeps a plugin library mapped for its lifetime. The info plugin hands std::function handlers
// (code inside its library) to the broker and to the host's route table; in a test those outlive
// the LoadedPlugin, so the library must stay mapped until they are gone (the real host keeps
// every library until every plugin is destroyed). Declare it before everything else.
class KeepLibrary {
 public:
  explicit KeepLibrary(const std::string& name)
      : handle_(dlopen((plugin_dir() + "/libdfd-" + name + ".so").c_str(), RTLD_NOW | RTLD_LOCAL)) {
  }
  ~KeepLibrary() {
    if (handle_) dlclose(handle_);
  }
  KeepLibrary(const KeepLibrary&) = delete;
  KeepLibrary& operator=(const KeepLibrary&) = delete;
  bool ok() const { return handle_ != nullptr; }

 private:
  void* handle_;
};

class FakeAuth : public Auth {
 public:
  std::atomic<bool> events{true};

  Result<IssuedToken> issue_download_token(std::string_view scope, std::int64_t user_id,
                                           std::chrono::seconds ttl,
                                           DownloadTokenRecord* record) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    IssuedToken t{"dl-" + std::to_string(++counter), clock_now() + ttl};
    DownloadTokenRecord r{sha256_hex(t.token), std::string(scope), user_id, t.expires_at};
    download[r.token_hash] = r;
    if (record) *record = r;
    return t;
  }
  TokenVerdict verify_download_token(std::string_view token,
                                     std::string_view scope) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    std::string h = sha256_hex(token);
    if (revoked.count(h)) return TokenVerdict::kRevoked;
    auto it = download.find(h);
    if (it == download.end()) return TokenVerdict::kUnknown;
    return it->second.scope == scope ? TokenVerdict::kValid : TokenVerdict::kWrongScope;
  }
  Status remember_download_token(const DownloadTokenRecord& r) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    download[r.token_hash] = r;
    return Status::Ok();
  }
  Status revoke_download_token(std::string_view token_hash) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    revoked.insert(std::string(token_hash));
    return Status::Ok();
  }
  bool needs_token_events() const noexcept override { return events.load(); }

  std::atomic<bool> users_supported{true};
  bool supports_users() const noexcept override { return users_supported.load(); }
  Result<User> create_user(std::string_view email, std::string_view name, std::string_view password,
                           std::string_view role) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    if (password.empty()) return Status::InvalidArgument("empty password");
    if (users.count(std::string(email))) return Status::AlreadyExists("user exists");
    User u{static_cast<std::int64_t>(users.size() + 1), std::string(email), std::string(name),
           std::string(role)};
    users[u.email] = {u, std::string(password)};
    return u;
  }
  // Like a real KDF, a check takes time (0 by default): parallel logins overlap.
  std::atomic<int> check_delay_ms{0};
  Result<User> check_password(std::string_view email, std::string_view password) noexcept override {
    if (int d = check_delay_ms.load(); d > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(d));
    std::lock_guard<std::mutex> g(mu);
    auto it = users.find(std::string(email));
    if (it == users.end() || it->second.second != password) {
      return Status::Unauthenticated("invalid email or password");
    }
    return it->second.first;
  }
  Result<User> find_user(std::string_view email) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    auto it = users.find(std::string(email));
    if (it == users.end()) return Status::NotFound("no such user");
    return it->second.first;
  }
  Result<IssuedToken> issue_user_token(std::int64_t user_id,
                                       std::chrono::seconds ttl) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    if (ttl.count() <= 0) ttl = std::chrono::hours(24 * 14);  // like auth-sqlite: its default
    IssuedToken t{"ut-" + std::to_string(++counter), clock_now() + ttl};
    user_tokens[t.token] = user_id;
    return t;
  }
  Result<User> verify_user_token(std::string_view token) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    auto it = user_tokens.find(std::string(token));
    if (it == user_tokens.end()) return Status::Unauthenticated("unknown token");
    for (auto& [email, up] : users) {
      if (up.first.id == it->second) return up.first;
    }
    return Status::Unauthenticated("unknown user");
  }
  Status revoke_user_token(std::string_view token) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    user_tokens.erase(std::string(token));
    return Status::Ok();
  }

  // ABI minor 1 (only what the routes of ABI minor 2 need) and minor 2.
  Result<User> find_user_by_id(std::int64_t user_id) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    for (auto& [email, up] : users) {
      if (up.first.id == user_id) return up.first;
    }
    return Status::NotFound("no user with id " + std::to_string(user_id));
  }
  Result<std::vector<UserEntry>> list_users(std::size_t limit,
                                            std::size_t offset) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    std::vector<UserEntry> all;
    for (auto& [email, up] : users) all.push_back({up.first, false});
    std::sort(all.begin(), all.end(),
              [](const UserEntry& a, const UserEntry& b) { return a.user.id < b.user.id; });
    if (offset >= all.size()) return std::vector<UserEntry>{};
    all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(offset));
    if (all.size() > limit) all.resize(limit);
    return all;
  }
  Result<std::int64_t> count_users() noexcept override {
    std::lock_guard<std::mutex> g(mu);
    return static_cast<std::int64_t>(users.size());
  }
  // Like the real stores: every user token of the user ends.
  Status set_password(std::int64_t user_id, std::string_view password) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    if (password.empty()) return Status::InvalidArgument("empty password");
    for (auto& [email, up] : users) {
      if (up.first.id != user_id) continue;
      up.second = std::string(password);
      for (auto it = user_tokens.begin(); it != user_tokens.end();) {
        it = it->second == user_id ? user_tokens.erase(it) : std::next(it);
      }
      return Status::Ok();
    }
    return Status::NotFound("no user with id " + std::to_string(user_id));
  }

  static TimePoint clock_now() { return std::chrono::system_clock::now(); }

  std::mutex mu;
  int counter = 0;
  std::map<std::string, std::pair<User, std::string>> users;
  std::map<std::string, std::int64_t> user_tokens;
  std::map<std::string, DownloadTokenRecord> download;
  std::set<std::string> revoked;
};

class FakeBroker : public Broker {
 public:
  std::atomic<bool> fail_publish{false};
  std::atomic<bool> is_connected{true};

  // A confirm takes this long (0: at once); longer than the publish's timeout → it times out.
  std::atomic<int> confirm_delay_ms{0};
  // Fail every publish with an odd number (1st, 3rd, ...).
  std::atomic<bool> fail_odd_publishes{false};
  std::atomic<int> publishes{0}, in_flight{0}, max_in_flight{0};

  Status publish(std::string_view key, std::string_view body,
                 std::chrono::milliseconds timeout) noexcept override {
    int n = ++publishes;
    int now = ++in_flight;
    for (int m = max_in_flight.load(); now > m && !max_in_flight.compare_exchange_weak(m, now);) {
    }
    std::chrono::milliseconds delay(confirm_delay_ms.load());
    if (delay.count() > 0) std::this_thread::sleep_for(std::min(delay, timeout));
    --in_flight;
    if (delay > timeout) return Status::DeadlineExceeded("no confirm in time");
    if (fail_publish.load()) return Status::DeadlineExceeded("no confirm in time");
    if (fail_odd_publishes.load() && n % 2 == 1) return Status::Unavailable("connection lost");
    std::lock_guard<std::mutex> g(mu);
    published.emplace_back(std::string(key), std::string(body));
    last_timeout = timeout;
    return Status::Ok();
  }
  Status subscribe(std::vector<std::string> binding_keys, EventHandler h) noexcept override {
    std::lock_guard<std::mutex> g(mu);
    bindings = std::move(binding_keys);
    handler = std::move(h);
    return Status::Ok();
  }
  bool connected() const noexcept override { return is_connected.load(); }

  // Delivers one event the way a broker thread would; returns the handler's verdict.
  Status deliver(std::string_view key, const std::string& body) {
    EventHandler h;
    {
      std::lock_guard<std::mutex> g(mu);
      h = handler;
    }
    if (!h) return Status::FailedPrecondition("nobody subscribed");
    return h(key, body);
  }
  std::vector<std::pair<std::string, std::string>> sent() {
    std::lock_guard<std::mutex> g(mu);
    return published;
  }

  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> published;
  std::vector<std::string> bindings;
  EventHandler handler;
  std::chrono::milliseconds last_timeout{0};
};

}  // namespace dfd::test
