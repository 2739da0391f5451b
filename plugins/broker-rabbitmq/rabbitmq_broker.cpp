#include "rabbitmq_broker.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "delivery_reader.hpp"
#include "dfd/private_file.hpp"
#include "dfd/wire/topic.hpp"

namespace dfd::broker_rabbitmq {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kSetupTimeout{2000};  // connect, handshake and each setup RPC
constexpr milliseconds kCloseTimeout{300};   // polite close on stop
constexpr milliseconds kBackoffFirst{100};
constexpr milliseconds kPollInterval{200};    // also paces heartbeats while idle
constexpr milliseconds kStartWait{3000};      // start() waits this long for the first connect
constexpr milliseconds kSubscribeWait{3000};  // subscribe() waits this long for its bindings
constexpr milliseconds kStopGrace{500};       // then stop() shuts the sockets down
constexpr milliseconds kHandlerRetryMax{2000};
// A delivery no subscription matches is held (unacked) this long after consuming started: the
// host may still be subscribing. Afterwards it is acknowledged and dropped.
constexpr milliseconds kUnmatchedGrace{10000};

amqp_bytes_t bytes(const std::string& s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

std::string ms_text(milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

void drain(int fd) {
  std::uint64_t v;
  while (::read(fd, &v, sizeof v) > 0) {
  }
}

bool fatal_config_error(const Status& st) {
  return st.code() == Code::kUnauthenticated || st.code() == Code::kPermissionDenied ||
         st.code() == Code::kFailedPrecondition;
}
}  // namespace

RabbitBroker::RabbitBroker(HostServices& host)
    : host_(host),
      published_(
          host.metrics().counter("dfd_broker_published_total", "Events confirmed by the broker")),
      failures_(host.metrics().counter("dfd_broker_publish_failures_total",
                                       "Publishes refused, unconfirmed in time or not connected")),
      consumed_(host.metrics().counter("dfd_broker_consumed_total",
                                       "Deliveries handled with Ok and acknowledged")),
      cancels_(host.metrics().counter(
          "dfd_broker_consumer_cancels_total",
          "Consumers cancelled by RabbitMQ (queue deleted); each is followed by a re-declare")),
      refused_(host.metrics().counter(
          "dfd_broker_publish_refused_total",
          "Publishes RabbitMQ refused for lack of permission (403 ACCESS_REFUSED)")),
      connected_gauge_(
          host.metrics().gauge("dfd_broker_connected", "1 while the publishing connection is up")),
      pub_node_gauge_(host.metrics().gauge(
          "dfd_broker_publisher_node",
          "Position (1-based, in url/urls) of the RabbitMQ node the publishing connection is on; "
          "0 while not connected")),
      con_node_gauge_(host.metrics().gauge(
          "dfd_broker_consumer_node",
          "Position (1-based, in url/urls) of the RabbitMQ node the consuming connection is on; "
          "0 while not connected")) {}

RabbitBroker::~RabbitBroker() {
  stop();
  if (!opt_.tls.ca_file.empty()) release_tls_library();
}

Status RabbitBroker::init() {
  DFD_RETURN_IF_ERROR(load_options());
  rejector_ = std::make_unique<DeliveryRejector>(host_.logger(), host_.metrics(), opt_.queue);
  return Status::Ok();
}

Status RabbitBroker::load_options() {
  const Config& cfg = host_.config();
  DFD_RETURN_IF_ERROR(
      cfg.allow_only({"url", "urls", "password_file", "ca_file", "cert_file", "key_file",
                      "exchange", "queue", "queue_type", "prefetch", "heartbeat_s",
                      "confirm_timeout_ms", "reconnect_max_ms", "transient", "max_body_bytes"}));
  auto targets = load_broker_urls(cfg);
  if (!targets.ok()) return targets.status();
  opt_.targets = std::move(*targets);
  DFD_RETURN_IF_ERROR(load_tls_files(cfg, opt_.targets.front().tls, opt_.tls));
  auto queue_type = load_queue_type(cfg, opt_.targets.size() > 1);
  if (!queue_type.ok()) return queue_type.status();
  opt_.queue_type = *queue_type;

  if (cfg.has("password_file")) {
    auto path = cfg.get_string("password_file");
    if (!path.ok()) return path.status();
    std::ifstream f(*path);
    if (!f) {
      return cfg.error("password_file", "cannot read '" + *path + "': " + std::strerror(errno));
    }
    std::stringstream ss;
    ss << f.rdbuf();
    std::string pw = ss.str();
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    if (pw.empty()) return cfg.error("password_file", "'" + *path + "' is empty");
    if (Status priv = check_private_file(*path); !priv.ok()) {
      // A warning, not a refusal (deployments before issue 12 made it 0644); the key_file of a
      // client certificate is refused instead.
      host_.logger().warn(cfg.error("password_file", priv.message()).message() +
                          " (the broker password should be readable by this user only)");
    }
    for (auto& t : opt_.targets) t.password = pw;
  } else if (const char* env = std::getenv("DFD_AMQP_PASSWORD"); env && *env) {
    for (auto& t : opt_.targets) {
      if (!t.password_in_url) t.password = env;
    }
  }

  auto exchange = cfg.string_or("exchange", "dfd");
  if (!exchange.ok()) return exchange.status();
  if (exchange->empty()) return cfg.error("exchange", "must not be empty");
  opt_.exchange = *exchange;

  auto queue = cfg.string_or("queue", host_.server().id);
  if (!queue.ok()) return queue.status();
  if (queue->empty()) return cfg.error("queue", "empty (set it, or give the server an id)");
  if (queue->size() > 255) return cfg.error("queue", "longer than 255 bytes");
  opt_.queue = *queue;

  struct IntKey {
    const char* key;
    std::int64_t def, lo, hi;
    std::int64_t* out;
  };
  std::int64_t prefetch, heartbeat, confirm, reconnect, max_body;
  const IntKey ints[] = {
      {"prefetch", 256, 1, 65535, &prefetch},
      {"heartbeat_s", 10, 0, 3600, &heartbeat},
      {"confirm_timeout_ms", 2000, 1, 600000, &confirm},
      {"reconnect_max_ms", 5000, 100, 600000, &reconnect},
      // RabbitMQ's own max_message_size is 128 MiB by default.
      {"max_body_bytes", static_cast<std::int64_t>(events::limits::kMaxEventBytes), 1024,
       std::int64_t{128} << 20, &max_body}};
  for (const auto& k : ints) {
    auto v = cfg.int_or(k.key, k.def);
    if (!v.ok()) return v.status();
    if (*v < k.lo || *v > k.hi) {
      return cfg.error(k.key, "must be between " + std::to_string(k.lo) + " and " +
                                  std::to_string(k.hi) + ", got " + std::to_string(*v));
    }
    *k.out = *v;
  }
  opt_.prefetch = static_cast<int>(prefetch);
  opt_.heartbeat_s = static_cast<int>(heartbeat);
  opt_.confirm_timeout = milliseconds(confirm);
  opt_.reconnect_max = milliseconds(reconnect);
  opt_.max_body = static_cast<std::size_t>(max_body);

  // Routing keys published as transient messages (kept in memory by RabbitMQ, confirmed without
  // a disk write, lost if the broker restarts before delivery); everything else is persistent.
  if (cfg.has("transient")) {
    auto keys = cfg.get_string_list("transient");
    if (!keys.ok()) return keys.status();
    opt_.transient.clear();
    for (const auto& k : *keys) {
      if (k.empty() || k.size() > 255 || k.find_first_of("*#") != std::string::npos) {
        return cfg.error("transient", "'" + k.substr(0, 64) +
                                          "' is not a routing key (no wildcards, 1-255 bytes)");
      }
      opt_.transient.insert(k);
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

Status RabbitBroker::start() noexcept {
  bool launched = false;
  Status st = guard("broker-rabbitmq: start", [&]() -> Status {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (started_) return Status::FailedPrecondition("broker-rabbitmq: already started");
      pub_wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      con_wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (pub_wake_fd_ < 0 || con_wake_fd_ < 0) {
        Status err =
            Status::IoError(std::string("broker-rabbitmq: eventfd: ") + std::strerror(errno));
        if (pub_wake_fd_ >= 0) ::close(pub_wake_fd_);
        if (con_wake_fd_ >= 0) ::close(con_wake_fd_);
        pub_wake_fd_ = con_wake_fd_ = -1;
        return err;
      }
      stopping_ = false;
      started_ = true;
      pub_first_attempt_done_ = false;
      threads_running_ = 2;
      launched = true;
    }
    publisher_ = std::thread([this] { publisher_main(); });
    consumer_ = std::thread([this] { consumer_main(); });
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, kStartWait, [&] { return pub_first_attempt_done_; });
    if (pub_first_attempt_done_ && fatal_config_error(pub_first_status_)) {
      return pub_first_status_.with_context("broker-rabbitmq");
    }
    if (!pub_connected_) {
      host_.logger().warn("RabbitMQ at " + pub_target().display + " is not reachable yet (" +
                          pub_last_error_ +
                          "); publishing fails with 'unavailable' until it is; retrying");
    }
    return Status::Ok();
  });
  if (!st.ok() && launched) stop();
  return st;
}

void RabbitBroker::stop() noexcept {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!started_ && !publisher_.joinable() && !consumer_.joinable()) return;
    started_ = false;
    stopping_ = true;
  }
  cv_.notify_all();
  if (pub_wake_fd_ >= 0) wake(pub_wake_fd_);
  if (con_wake_fd_ >= 0) wake(con_wake_fd_);
  {
    std::unique_lock<std::mutex> lk(mu_);
    if (!cv_.wait_for(lk, kStopGrace, [&] { return threads_running_ == 0; })) {
      // A thread is stuck in a blocking call (handshake with a silent peer, a full socket):
      // shutting the socket down makes that call fail at once.
      if (pub_fd_ >= 0) ::shutdown(pub_fd_, SHUT_RDWR);
      if (con_fd_ >= 0) ::shutdown(con_fd_, SHUT_RDWR);
    }
  }
  if (publisher_.joinable()) publisher_.join();
  if (consumer_.joinable()) consumer_.join();
  std::deque<std::unique_ptr<PendingPublish>> left;
  {
    std::lock_guard<std::mutex> g(mu_);
    left.swap(pub_queue_);
  }
  fail_all(left, Status::Unavailable("broker-rabbitmq: stopped"));
  {
    std::lock_guard<std::mutex> g(mu_);
    if (pub_wake_fd_ >= 0) ::close(pub_wake_fd_);
    if (con_wake_fd_ >= 0) ::close(con_wake_fd_);
    pub_wake_fd_ = con_wake_fd_ = -1;
  }
  connected_gauge_.set(0);
}

Health RabbitBroker::health() const noexcept {
  Health h;
  try {
    std::lock_guard<std::mutex> g(mu_);
    if (!started_) {
      h.healthy = false;
      h.detail = "not started";
    } else if (!pub_connected_) {
      h.healthy = false;
      h.detail = "not connected to " + node_text(pub_node_) + ": " + pub_last_error_;
    } else if (!queue_error_.empty()) {
      h.healthy = false;
      h.detail = "publishing to " + node_text(pub_node_) + "; " + queue_error_;
    } else if (!refused_bindings_.empty()) {
      h.healthy = false;
      h.detail = "RabbitMQ refused binding '" + refused_bindings_.begin()->first + "' for queue '" +
                 opt_.queue + "' (the user may not read it); " +
                 std::to_string(refused_bindings_.size()) + " key(s) not consumed";
    } else if (!subs_.empty() && !con_connected_) {
      h.healthy = false;
      h.detail = "publishing to " + node_text(pub_node_) + "; consumer of queue '" + opt_.queue +
                 "' not connected: " + con_last_error_;
    } else {
      h.detail = "connected to " + node_text(pub_node_);
      if (!subs_.empty()) {
        h.detail += "; consuming queue '" + opt_.queue + "' (" + queue_type_name(opt_.queue_type) +
                    ", " + std::to_string(wanted_keys_.size()) + " binding keys)";
        if (opt_.targets.size() > 1) h.detail += " on " + node_text(con_node_);
      }
    }
    if (cancel_count_ > 0) {
      const auto ago =
          std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - last_cancel_);
      h.detail +=
          "; RabbitMQ cancelled the consumer " + std::to_string(cancel_count_) +
          " time(s) (queue deleted?), last " + std::to_string(ago.count()) +
          " s ago; the consumer declares the queue and its bindings again when it reconnects";
    }
  } catch (...) {
    h.healthy = false;
    h.detail = "health: out of memory";
  }
  return h;
}

void RabbitBroker::wake(int fd) {
  std::uint64_t one = 1;
  ssize_t n = ::write(fd, &one, sizeof one);
  (void)n;  // EAGAIN means a wake-up is pending already
}

std::string RabbitBroker::node_text(std::size_t i) const {
  std::string out = opt_.targets[i].display;
  if (opt_.targets.size() > 1) {
    out += " (node " + std::to_string(i + 1) + " of " + std::to_string(opt_.targets.size()) + ")";
  }
  return out;
}

bool RabbitBroker::next_node(NodeRotation& nodes, std::atomic<std::size_t>& node,
                             milliseconds& backoff, bool fatal) {
  const bool full_round = nodes.failed();
  node = nodes.current();
  if (!full_round) return wait_for_stop(kBackoffFirst);  // another node may well be up
  if (fatal) backoff = opt_.reconnect_max;
  const bool stopped = wait_for_stop(backoff);
  backoff = std::min(backoff * 2, opt_.reconnect_max);
  return stopped;
}

bool RabbitBroker::wait_for_stop(milliseconds d) {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, d, [&] { return stopping_.load(); });
}

void RabbitBroker::note_error(const char* role, const Status& st, std::string& last_logged) {
  if (st.message() != last_logged) {
    host_.logger().warn(std::string(role) + ": " + st.message() + " (retrying with backoff)");
    last_logged = st.message();
  } else if (host_.logger().enabled(LogLevel::kDebug)) {
    host_.logger().debug(std::string(role) + ": still failing: " + st.message());
  }
}

void RabbitBroker::fail_all(std::deque<std::unique_ptr<PendingPublish>>& q, const Status& st) {
  for (auto& p : q) p->done.set_value(st);
  q.clear();
}

// ---------------------------------------------------------------------------------------------
// Publishing

Status RabbitBroker::publish(std::string_view routing_key, std::string_view body,
                             milliseconds timeout) noexcept {
  return guard("broker-rabbitmq: publish", [&]() -> Status {
    if (routing_key.empty() || routing_key.size() > 255) {
      failures_.add();
      return Status::InvalidArgument("broker-rabbitmq: routing key must have 1..255 bytes");
    }
    if (timeout.count() <= 0) timeout = opt_.confirm_timeout;
    auto p = std::make_unique<PendingPublish>();
    p->key.assign(routing_key);
    p->body.assign(body);
    p->deadline = Clock::now() + timeout;
    std::future<Status> done = p->done.get_future();
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!started_) {
        failures_.add();
        return Status::FailedPrecondition("broker-rabbitmq: publish before start or after stop");
      }
      if (!pub_connected_) {
        failures_.add();
        return Status::Unavailable("broker-rabbitmq: not connected to " + pub_target().display +
                                   ": " + pub_last_error_);
      }
      const bool was_empty = pub_queue_.empty();
      pub_queue_.push_back(std::move(p));
      if (was_empty) wake(pub_wake_fd_);  // under mu_: stop() closes the fd under mu_
    }
    if (done.wait_for(timeout) != std::future_status::ready) {
      failures_.add();
      return Status::DeadlineExceeded("broker-rabbitmq: no confirm from RabbitMQ within " +
                                      ms_text(timeout) + " for '" + std::string(routing_key) + "'");
    }
    Status st = done.get();
    if (!st.ok()) failures_.add();
    return st;
  });
}

void RabbitBroker::publisher_main() {
  milliseconds backoff = kBackoffFirst;
  std::string last_logged;
  bool first = true;
  int failed_attempts = 0;
  NodeRotation nodes(opt_.targets.size());
  milliseconds nack_wait{0};  // extra wait after sessions that ended with nacks only
  while (!stopping_) {
    AmqpConnection c;
    c.set_socket_observer([this](int fd) {
      std::lock_guard<std::mutex> g(mu_);
      pub_fd_ = fd;
    });
    Status st = setup_publisher(c);
    {
      std::lock_guard<std::mutex> g(mu_);
      if (st.ok()) {
        pub_connected_ = true;
        pub_last_error_.clear();
      } else {
        pub_last_error_ = st.message();
      }
      if (first) {
        first = false;
        pub_first_attempt_done_ = true;
        pub_first_status_ = st;
        cv_.notify_all();
      }
    }
    if (!st.ok()) {
      if (stopping_) break;
      ++failed_attempts;
      note_error("publisher", st, last_logged);
      if (next_node(nodes, pub_node_, backoff, fatal_config_error(st))) break;
      continue;
    }
    nodes.connected();
    host_.logger().info("publisher connected to " + node_text(pub_node_) +
                        (failed_attempts
                             ? " after " + std::to_string(failed_attempts) + " failed attempts"
                             : std::string()));
    failed_attempts = 0;
    last_logged.clear();
    backoff = kBackoffFirst;
    connected_gauge_.set(1);
    pub_node_gauge_.set(static_cast<double>(pub_node_ + 1));
    const std::uint64_t confirmed_before = confirmed_;
    bool nacked = false;
    st = publisher_session(c, nacked);
    // Nacks and nothing stored on this connection: RabbitMQ keeps refusing; wait longer each time.
    nack_wait = nacked && confirmed_ == confirmed_before
                    ? std::min(std::max(nack_wait * 2, kBackoffFirst), opt_.reconnect_max)
                    : milliseconds(0);
    std::deque<std::unique_ptr<PendingPublish>> left;
    {
      std::lock_guard<std::mutex> g(mu_);
      pub_connected_ = false;
      pub_last_error_ = stopping_ ? "stopped" : st.message();
      left.swap(pub_queue_);
    }
    connected_gauge_.set(0);
    pub_node_gauge_.set(0);
    fail_all(left, Status::Unavailable("broker-rabbitmq: " +
                                       (stopping_ ? std::string("stopped") : st.message())));
    if (stopping_) {
      c.close_gracefully(kCloseTimeout);
      break;
    }
    host_.logger().warn("publisher lost " + node_text(pub_node_) + ": " + st.message() +
                        "; reconnecting" + (nodes.size() > 1 ? " to the next node" : ""));
    if (next_node(nodes, pub_node_, backoff, false)) break;
    if (nack_wait.count() > 0 && wait_for_stop(nack_wait)) break;
  }
  std::lock_guard<std::mutex> g(mu_);
  --threads_running_;
  cv_.notify_all();
}

Status RabbitBroker::setup_publisher(AmqpConnection& c) {
  DFD_RETURN_IF_ERROR(c.open(pub_target(), opt_.tls, opt_.heartbeat_s, kSetupTimeout));
  DFD_RETURN_IF_ERROR(declare_exchange(c, pub_target()));
  amqp_confirm_select(c.get(), AmqpConnection::kChannel);
  return c.check_rpc("confirm.select on " + pub_target().display);
}

Status RabbitBroker::declare_exchange(AmqpConnection& c, const AmqpTarget& t) {
  const std::string what =
      "declare topic exchange '" + opt_.exchange + "' on " + t.display + " as '" + t.user + "'";
  amqp_exchange_declare(c.get(), AmqpConnection::kChannel, bytes(opt_.exchange),
                        amqp_cstring_bytes("topic"), /*passive=*/0, /*durable=*/1,
                        /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
  Status st = c.check_rpc(what);
  if (st.code() != Code::kPermissionDenied) return st;
  // No configure permission on the exchange (a file server's user): it must exist already.
  DFD_RETURN_IF_ERROR(c.reopen_channel());
  amqp_exchange_declare(c.get(), AmqpConnection::kChannel, bytes(opt_.exchange),
                        amqp_cstring_bytes("topic"), /*passive=*/1, 0, 0, 0, amqp_empty_table);
  st = c.check_rpc("exchange '" + opt_.exchange + "' on " + t.display);
  if (st.code() == Code::kNotFound) {
    // Not a config error: the information server (or scripts/rabbitmq user) creates it.
    return Status::Unavailable(st.message() + " does not exist yet, and user '" + t.user +
                               "' may not create it; waiting for it");
  }
  return st;
}

Status RabbitBroker::publisher_session(AmqpConnection& c, bool& nacked) {
  amqp_connection_state_t conn = c.get();
  const int fd = c.fd();
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  amqp_basic_properties_t transient_props = props;
  transient_props.delivery_mode = AMQP_DELIVERY_NONPERSISTENT;
  const amqp_bytes_t exchange = bytes(opt_.exchange);
  std::uint64_t next_tag = 1;  // confirm mode numbers the channel's publishes from 1
  Inflight inflight;
  std::deque<std::unique_ptr<PendingPublish>> resend;  // in flight when a publish was refused
  auto last_sweep = Clock::now();

  auto finish = [&](const Status& st) {
    Status to_callers = stopping_ ? Status::Unavailable("broker-rabbitmq: stopped")
                                  : Status::Unavailable("broker-rabbitmq: " + st.message());
    for (auto& [tag, p] : inflight) p->done.set_value(to_callers);
    inflight.clear();
    return st;
  };

  while (!stopping_) {
    drain(pub_wake_fd_);  // before taking the queue: a later push wakes us again
    std::deque<std::unique_ptr<PendingPublish>> batch;
    batch.swap(resend);
    {
      std::lock_guard<std::mutex> g(mu_);
      for (auto& p : pub_queue_) batch.push_back(std::move(p));
      pub_queue_.clear();
    }
    const auto now = Clock::now();
    for (auto it = batch.begin(); it != batch.end(); ++it) {
      auto& p = *it;
      if (p->deadline <= now) {
        p->done.set_value(Status::DeadlineExceeded("broker-rabbitmq: timed out before sending"));
        continue;
      }
      // A listed key, or a listed event kind ("server.heartbeat" covers server.heartbeat.fs-a).
      const bool transient = opt_.transient.count(p->key) != 0 ||
                             opt_.transient.count(std::string(events::event_kind(p->key))) != 0;
      int rc = amqp_basic_publish(conn, AmqpConnection::kChannel, exchange, bytes(p->key),
                                  /*mandatory=*/0, /*immediate=*/0,
                                  transient ? &transient_props : &props, bytes(p->body));
      if (rc != AMQP_STATUS_OK) {
        Status st = Status::Unavailable(std::string("publish to ") + pub_target().display +
                                        " failed: " + amqp_error_string2(rc));
        for (auto rest = it; rest != batch.end(); ++rest) {
          (*rest)->done.set_value(Status::Unavailable("broker-rabbitmq: " + st.message()));
        }
        return finish(st);
      }
      inflight.emplace(next_tag++, std::move(p));
    }

    PublishRefusal refusal;
    Status st = read_confirms(conn, inflight, refusal, nacked);
    if (st.code() == Code::kPermissionDenied) {
      st = recover_from_refusal(c, refusal, inflight, resend);
      next_tag = 1;  // a new channel numbers from 1 again
      if (st.ok()) continue;
    }
    if (!st.ok()) return finish(st);

    if (now - last_sweep > std::chrono::seconds(1)) {
      // Callers whose timeout passed have gone; forget their events (a late ack is ignored).
      last_sweep = now;
      for (auto it = inflight.begin(); it != inflight.end();) {
        if (it->second->deadline < now) {
          it->second->done.set_value(Status::DeadlineExceeded("broker-rabbitmq: no confirm"));
          it = inflight.erase(it);
        } else {
          ++it;
        }
      }
    }

    if (amqp_frames_enqueued(conn) || amqp_data_in_buffer(conn)) continue;
    pollfd fds[2] = {{fd, POLLIN, 0}, {pub_wake_fd_, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(kPollInterval.count()));
    if (n < 0 && errno != EINTR) {
      return finish(Status::Unavailable(std::string("poll: ") + std::strerror(errno)));
    }
  }
  return finish(Status::Ok());
}

Status RabbitBroker::recover_from_refusal(AmqpConnection& c, const PublishRefusal& refusal,
                                          Inflight& inflight,
                                          std::deque<std::unique_ptr<PendingPublish>>& resend) {
  const std::string what = refusal.topic.empty() ? "publishing to exchange '" + opt_.exchange + "'"
                                                 : "routing key '" + refusal.topic + "'";
  const Status refused =
      Status::PermissionDenied("broker-rabbitmq: RabbitMQ refused " + what + " for user '" +
                               pub_target().user + "': 403 " + refusal.reason);
  if (refusals_logged_.size() < 64 && refusals_logged_.insert(refusal.topic).second) {
    host_.logger().error(refused.message() +
                         " (the user's permissions do not allow it; logged once per key)");
  } else if (host_.logger().enabled(LogLevel::kDebug)) {
    host_.logger().debug(refused.message());
  }
  // RabbitMQ dropped whatever followed the refused publish on the closed channel; events whose
  // key it does not refuse go out again on the new channel (at least once: handlers are
  // idempotent). Their callers are still waiting with their own deadlines.
  // A reply text RabbitMQ cut short may name no key in flight: then none is sent again (else the
  // same refusal could repeat until the callers' deadlines).
  const bool named = std::any_of(inflight.begin(), inflight.end(),
                                 [&](const auto& e) { return is_refused(refusal, e.second->key); });
  for (auto& [tag, p] : inflight) {
    if (!named || is_refused(refusal, p->key)) {
      refused_.add();
      p->done.set_value(refused);
    } else {
      resend.push_back(std::move(p));
    }
  }
  inflight.clear();
  DFD_RETURN_IF_ERROR(c.reopen_channel());
  amqp_confirm_select(c.get(), AmqpConnection::kChannel);
  return c.check_rpc("confirm.select on " + pub_target().display);
}

Status RabbitBroker::read_confirms(amqp_connection_state_t conn, Inflight& inflight,
                                   PublishRefusal& refusal, bool& nacked) {
  while (true) {
    amqp_frame_t frame;
    timeval zero{0, 0};
    // Also sends a heartbeat when one is due and notices a silent server.
    int rc = amqp_simple_wait_frame_noblock(conn, &frame, &zero);
    if (rc == AMQP_STATUS_TIMEOUT) break;
    if (rc != AMQP_STATUS_OK) {
      return Status::Unavailable("connection to " + pub_target().display +
                                 " lost: " + amqp_error_string2(rc));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;  // content of a basic.return
    const amqp_method_t& m = frame.payload.method;
    switch (m.id) {
      case AMQP_BASIC_ACK_METHOD:
      case AMQP_BASIC_NACK_METHOD: {
        std::uint64_t tag;
        bool multiple;
        Status result;
        if (m.id == AMQP_BASIC_ACK_METHOD) {
          auto* a = static_cast<amqp_basic_ack_t*>(m.decoded);
          tag = a->delivery_tag;
          multiple = a->multiple != 0;
        } else {
          auto* a = static_cast<amqp_basic_nack_t*>(m.decoded);
          tag = a->delivery_tag;
          multiple = a->multiple != 0;
          result = Status::Unavailable(
              "broker-rabbitmq: RabbitMQ refused to store the event "
              "(basic.nack)");
        }
        // Counted here, by the one publisher thread, before any caller can see its result.
        Inflight::iterator first, last;
        if (multiple) {  // every outstanding tag up to and including `tag`
          first = inflight.begin();
          last = inflight.upper_bound(tag);
        } else {
          first = inflight.find(tag);
          last = first == inflight.end() ? first : std::next(first);
        }
        if (result.ok()) {
          const auto n = static_cast<std::uint64_t>(std::distance(first, last));
          confirmed_ += n;
          published_.add(static_cast<double>(n));
        }
        for (auto it = first; it != last; ++it) it->second->done.set_value(result);
        inflight.erase(first, last);
        if (!result.ok()) {
          nacked = true;
          return Status::Unavailable(
              "RabbitMQ refused to store an event (basic.nack; a queue without a leader or "
              "quorum?)");
        }
        break;
      }
      case AMQP_CHANNEL_CLOSE_METHOD: {
        auto* cl = static_cast<amqp_channel_close_t*>(m.decoded);
        std::string why(static_cast<const char*>(cl->reply_text.bytes), cl->reply_text.len);
        amqp_channel_close_ok_t ok{};
        amqp_send_method(conn, AmqpConnection::kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        if (cl->reply_code == AMQP_ACCESS_REFUSED) {
          refusal = parse_publish_refusal(why);
          return Status::PermissionDenied(why);
        }
        return Status::Unavailable("RabbitMQ closed the publishing channel: " +
                                   std::to_string(cl->reply_code) + " " + why);
      }
      case AMQP_CONNECTION_CLOSE_METHOD: {
        auto* cl = static_cast<amqp_connection_close_t*>(m.decoded);
        std::string why(static_cast<const char*>(cl->reply_text.bytes), cl->reply_text.len);
        amqp_connection_close_ok_t ok{};
        amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        return Status::Unavailable(
            "RabbitMQ closed the connection: " + std::to_string(cl->reply_code) + " " + why);
      }
      default:
        break;
    }
  }
  amqp_maybe_release_buffers(conn);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Consuming

Status RabbitBroker::subscribe(std::vector<std::string> binding_keys,
                               EventHandler handler) noexcept {
  return guard("broker-rabbitmq: subscribe", [&]() -> Status {
    if (binding_keys.empty()) return Status::InvalidArgument("broker-rabbitmq: no binding keys");
    if (!handler) return Status::InvalidArgument("broker-rabbitmq: empty handler");
    for (const auto& k : binding_keys) {
      std::string why = wire::check_binding_key(k);
      if (!why.empty()) return Status::InvalidArgument("broker-rabbitmq: " + why);
    }
    auto s = std::make_shared<Subscription>();
    s->keys = std::move(binding_keys);
    s->handler = std::move(handler);
    std::unique_lock<std::mutex> lk(mu_);
    bool grew = false;
    for (const auto& k : s->keys) {
      refused_bindings_.erase(k);  // permissions may have changed: try again
      grew = wanted_keys_.insert(k).second || grew;
    }
    const std::vector<std::string> keys = s->keys;
    auto refusal = [&]() -> std::string {
      for (const auto& k : keys) {
        auto it = refused_bindings_.find(k);
        if (it != refused_bindings_.end()) return it->second;
      }
      return {};
    };
    if (grew) ++keys_generation_;
    const std::uint64_t want = keys_generation_;
    subs_.push_back(std::move(s));
    cv_.notify_all();
    if (!started_) return Status::Ok();
    wake(con_wake_fd_);
    // Wait (briefly) for the bindings, so events published after this returns reach the queue.
    if (pub_connected_ && !cv_.wait_for(lk, kSubscribeWait, [&] {
          return bound_generation_ >= want || stopping_.load() || !refusal().empty() ||
                 !queue_error_.empty();
        })) {
      host_.logger().warn("bindings for queue '" + opt_.queue + "' not in place yet (" +
                          con_last_error_ + "); they will be made on (re)connect");
    }
    if (!queue_error_.empty()) return Status::FailedPrecondition(queue_error_);
    if (std::string why = refusal(); !why.empty()) {
      return Status::PermissionDenied("broker-rabbitmq: user '" + con_target().user +
                                      "' may not subscribe: " + why);
    }
    return Status::Ok();
  });
}

std::vector<std::shared_ptr<RabbitBroker::Subscription>> RabbitBroker::subscriptions() const {
  std::lock_guard<std::mutex> g(mu_);
  return subs_;
}

void RabbitBroker::consumer_main() {
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return stopping_ || !subs_.empty(); });
  }
  milliseconds backoff = kBackoffFirst;
  std::string last_logged;
  int failed_attempts = 0;
  NodeRotation nodes(opt_.targets.size());
  while (!stopping_) {
    AmqpConnection c;
    c.set_socket_observer([this](int fd) {
      std::lock_guard<std::mutex> g(mu_);
      con_fd_ = fd;
    });
    std::set<std::string> bound;
    Status st = setup_consumer(c, bound);
    if (!st.ok()) {
      if (stopping_) break;
      ++failed_attempts;
      bool queue_error;  // a queue of the other type: setup_consumer logged it once already
      {
        std::lock_guard<std::mutex> g(mu_);
        con_last_error_ = st.message();
        queue_error = !queue_error_.empty();
      }
      if (!queue_error) note_error("consumer", st, last_logged);
      // A queue of the other type is there on every node: no point in rotating quickly.
      if (next_node(nodes, con_node_, backoff, st.code() == Code::kFailedPrecondition)) break;
      continue;
    }
    nodes.connected();
    host_.logger().info(
        "consumer connected to " + node_text(con_node_) + ", " + queue_type_name(opt_.queue_type) +
        " queue '" + opt_.queue + "' (" + std::to_string(bound.size()) + " binding keys)" +
        (failed_attempts ? " after " + std::to_string(failed_attempts) + " failed attempts"
                         : std::string()));
    failed_attempts = 0;
    last_logged.clear();
    backoff = kBackoffFirst;
    con_connected_ = true;
    con_node_gauge_.set(static_cast<double>(con_node_ + 1));
    st = consumer_session(c, bound);
    con_connected_ = false;
    con_node_gauge_.set(0);
    {
      std::lock_guard<std::mutex> g(mu_);
      con_last_error_ = stopping_ ? "stopped" : st.message();
    }
    if (stopping_) {
      c.close_gracefully(kCloseTimeout);
      break;
    }
    host_.logger().warn("consumer lost " + node_text(con_node_) + ": " + st.message() +
                        "; reconnecting" + (nodes.size() > 1 ? " to the next node" : ""));
    if (next_node(nodes, con_node_, backoff, false)) break;
  }
  std::lock_guard<std::mutex> g(mu_);
  --threads_running_;
  cv_.notify_all();
}

Status RabbitBroker::setup_consumer(AmqpConnection& c, std::set<std::string>& bound) {
  DFD_RETURN_IF_ERROR(c.open(con_target(), opt_.tls, opt_.heartbeat_s, kSetupTimeout));
  DFD_RETURN_IF_ERROR(declare_exchange(c, con_target()));
  amqp_connection_state_t conn = c.get();
  const auto ch = AmqpConnection::kChannel;
  amqp_queue_declare(conn, ch, bytes(opt_.queue), /*passive=*/0, /*durable=*/1, /*exclusive=*/0,
                     /*auto_delete=*/0, queue_declare_arguments(opt_.queue_type));
  Status declared = c.check_rpc("declare durable " + std::string(queue_type_name(opt_.queue_type)) +
                                " queue '" + opt_.queue + "'");
  if (!declared.ok()) {
    declared = mismatch_error(declared, opt_.queue, opt_.queue_type);
    if (declared.code() == Code::kFailedPrecondition) {
      std::lock_guard<std::mutex> g(mu_);
      if (queue_error_.empty()) host_.logger().error(declared.message());
      queue_error_ = declared.message();
      cv_.notify_all();
    }
    return declared;
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    queue_error_.clear();
  }
  DFD_RETURN_IF_ERROR(bind_new_keys(c, bound));
  amqp_basic_qos(conn, ch, 0, static_cast<std::uint16_t>(opt_.prefetch), 0);
  DFD_RETURN_IF_ERROR(c.check_rpc("basic.qos"));
  amqp_basic_consume(conn, ch, bytes(opt_.queue), amqp_empty_bytes, /*no_local=*/0,
                     /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
  DFD_RETURN_IF_ERROR(c.check_rpc("consume from queue '" + opt_.queue + "'"));
  std::lock_guard<std::mutex> g(mu_);
  if (consume_started_ == Clock::time_point{}) consume_started_ = Clock::now();
  return Status::Ok();
}

Status RabbitBroker::bind_new_keys(AmqpConnection& c, std::set<std::string>& bound) {
  std::vector<std::string> todo;
  std::uint64_t generation;
  {
    std::lock_guard<std::mutex> g(mu_);
    generation = keys_generation_;
    for (const auto& k : wanted_keys_) {
      if (!bound.count(k)) todo.push_back(k);
    }
  }
  for (const auto& k : todo) {
    amqp_queue_bind(c.get(), AmqpConnection::kChannel, bytes(opt_.queue), bytes(opt_.exchange),
                    bytes(k), amqp_empty_table);
    Status st =
        c.check_rpc("bind queue '" + opt_.queue + "' to '" + opt_.exchange + "' with '" + k + "'");
    if (st.code() == Code::kPermissionDenied) {
      // The user may not read these keys: forget the key (subscribe() reports it), reconnect
      // and go on with the others. Retrying would refuse it again, forever.
      host_.logger().error("RabbitMQ refused a binding for user '" + con_target().user +
                           "': " + st.message() + "; consuming without it");
      std::lock_guard<std::mutex> g(mu_);
      refused_bindings_[k] = st.message();
      wanted_keys_.erase(k);
      cv_.notify_all();
      return st;
    }
    DFD_RETURN_IF_ERROR(st);
    bound.insert(k);
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    bound_generation_ = std::max(bound_generation_, generation);
  }
  cv_.notify_all();
  return Status::Ok();
}

Status RabbitBroker::consumer_session(AmqpConnection& c, std::set<std::string>& bound) {
  amqp_connection_state_t conn = c.get();
  const int fd = c.fd();
  std::deque<Parked> parked;
  handler_retry_delay_ = kBackoffFirst;

  while (!stopping_) {
    bool rebind;
    Clock::time_point started;
    {
      std::lock_guard<std::mutex> g(mu_);
      rebind = keys_generation_ != bound_generation_;
      started = consume_started_;
    }
    if (rebind) {
      DFD_RETURN_IF_ERROR(bind_new_keys(c, bound));
      // A new subscription may be what the held deliveries were waiting for.
      for (auto it = parked.begin(); it != parked.end() && !stopping_;) {
        bool matched = false;
        DFD_RETURN_IF_ERROR(deliver(conn, it->tag, it->key, it->body, matched));
        it = matched ? parked.erase(it) : it + 1;
      }
    }
    if (!parked.empty() && Clock::now() - started > kUnmatchedGrace) {
      for (const auto& p : parked) {
        DFD_RETURN_IF_ERROR(rejector_->reject(conn, AmqpConnection::kChannel, p.tag, p.key,
                                              DeliveryRejector::Reason::kUnmatched,
                                              "no subscription matches its routing key"));
      }
      parked.clear();
    }

    if (!amqp_frames_enqueued(conn) && !amqp_data_in_buffer(conn)) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {con_wake_fd_, POLLIN, 0}};
      int n = ::poll(fds, 2, static_cast<int>(kPollInterval.count()));
      if (n < 0 && errno != EINTR) {
        return Status::Unavailable(std::string("poll: ") + std::strerror(errno));
      }
      if (fds[1].revents & POLLIN) drain(con_wake_fd_);
      if (stopping_) break;
    }

    amqp_maybe_release_buffers(conn);
    Incoming in;
    DFD_RETURN_IF_ERROR(
        read_incoming(conn, AmqpConnection::kChannel, opt_.max_body, kSetupTimeout, in)
            .with_context("consume from " + con_target().display));
    switch (in.kind) {
      case Incoming::Kind::kDelivery:
        if (in.too_large) {
          DFD_RETURN_IF_ERROR(rejector_->reject(
              conn, AmqpConnection::kChannel, in.tag, in.key, DeliveryRejector::Reason::kTooLarge,
              "body of " + std::to_string(in.body_size) + " bytes (max_body_bytes " +
                  std::to_string(opt_.max_body) + ")"));
        } else {
          bool matched = false;
          DFD_RETURN_IF_ERROR(deliver(conn, in.tag, in.key, in.body, matched));
          if (!matched) parked.push_back(Parked{in.tag, std::move(in.key), std::move(in.body)});
        }
        break;
      case Incoming::Kind::kCancelled:
        note_cancel();
        return Status::Unavailable("RabbitMQ cancelled the consumer of queue '" + opt_.queue +
                                   "' (queue deleted?)");
      case Incoming::Kind::kChannelClosed:
        return Status::Unavailable("RabbitMQ closed the consuming channel: " + in.why);
      case Incoming::Kind::kConnectionClosed:
        return Status::Unavailable("RabbitMQ closed the connection: " + in.why);
      case Incoming::Kind::kNothing:
      case Incoming::Kind::kOther:
        break;  // e.g. the basic.qos-ok of an earlier call; nothing to do
    }
  }
  return Status::Ok();
}

void RabbitBroker::note_cancel() {
  // Unhealthy first: once the counter moves, health turns healthy only after the new setup.
  con_connected_ = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    ++cancel_count_;
    last_cancel_ = Clock::now();
  }
  cancels_.add();
  host_.logger().warn("RabbitMQ cancelled the consumer of queue '" + opt_.queue +
                      "' (the queue was deleted?); declaring it and its bindings again");
}

Status RabbitBroker::deliver(amqp_connection_state_t conn, std::uint64_t tag,
                             const std::string& key, const std::string& body, bool& matched) {
  matched = false;
  Status result;
  for (const auto& s : subscriptions()) {
    if (!wire::any_topic_matches(s->keys, key)) continue;
    matched = true;
    Status st = guard("handler", [&]() -> Status { return s->handler(key, body); });
    if (!st.ok() && result.ok()) result = st;
  }
  if (!matched) return Status::Ok();
  if (result.code() == Code::kInvalidArgument) {
    // The handler says the event is malformed: it will be tomorrow too. Redelivering it would
    // only loop and delay every event behind it.
    handler_retry_delay_ = kBackoffFirst;
    return rejector_->reject(conn, AmqpConnection::kChannel, tag, key,
                             DeliveryRejector::Reason::kInvalid, result.message());
  }
  if (result.ok()) {
    handler_retry_delay_ = kBackoffFirst;
    consumed_.add();
    if (amqp_basic_ack(conn, AmqpConnection::kChannel, tag, 0) != AMQP_STATUS_OK) {
      return Status::Unavailable("ack failed on " + con_target().display);
    }
    return Status::Ok();
  }
  host_.logger().warn("handler for '" + loggable(key, 255) + "' failed: " + result.to_string() +
                      "; redelivery in " + ms_text(handler_retry_delay_));
  // A short pause so a handler that keeps failing does not spin; unacked deliveries go back to
  // the queue by themselves if the connection closes meanwhile.
  if (wait_for_stop(handler_retry_delay_)) return Status::Ok();
  handler_retry_delay_ = std::min(handler_retry_delay_ * 2, kHandlerRetryMax);
  if (amqp_basic_nack(conn, AmqpConnection::kChannel, tag, 0, /*requeue=*/1) != AMQP_STATUS_OK) {
    return Status::Unavailable("nack failed on " + con_target().display);
  }
  return Status::Ok();
}

}  // namespace dfd::broker_rabbitmq

namespace {
dfd::Plugin* create(dfd::HostServices& host, dfd::Status* error) noexcept {
  return dfd::create_plugin<dfd::broker_rabbitmq::RabbitBroker>(host, error);
}
void destroy(dfd::Plugin* p) noexcept {
  dfd::destroy_plugin<dfd::broker_rabbitmq::RabbitBroker>(p);
}
}  // namespace

DFD_PLUGIN(dfd::PluginKind::kBroker, "broker-rabbitmq", "1.0.0",
           "RabbitMQ event broker: durable topic exchange, publisher confirms, per-server queues",
           nullptr, 0, &create, &destroy)
