// broker-rabbitmq: the Broker interface over RabbitMQ (rabbitmq-c), durable and confirmed.
//
// Topology: a durable topic exchange (`exchange`, default "dfd"); subscribers share one durable
// queue named `queue` (default: the server id) bound with every subscribed key, of type
// `queue_type` (classic, or a replicated quorum queue: queue_type.hpp); events are persistent
// (delivery_mode 2), content type application/json.
//
// Threads (rabbitmq-c connections are not thread-safe, so each connection has one owner):
//   - the publisher thread owns the publishing connection (confirm mode). publish() enqueues the
//     event and waits on its own promise; the thread sends every queued event without waiting
//     (pipelining), reads basic.ack/basic.nack (including `multiple`) and resolves the callers.
//   - the consumer thread (started with the first subscription) owns the consuming connection:
//     declares exchange, queue and bindings, basic.qos(prefetch), consumes with manual acks,
//     calls the matching handlers, acks after Ok, nacks with requeue after a short delay on error,
//     rejects for good (no requeue) a delivery a handler calls kInvalidArgument or one larger
//     than max_body_bytes (delivery_rejector.hpp). A basic.cancel from RabbitMQ (the queue was
//     deleted) ends the session: the reconnect declares the queue and its bindings again.
// Both reconnect on any failure with exponential backoff (100 ms doubling to reconnect_max_ms)
// and redeclare their topology; AMQP heartbeats are on (heartbeat_s). With several `urls` (the
// nodes of one cluster, broker_nodes.hpp) each connection moves to the next node after a failed
// connect or a lost connection, 100 ms later; the back-off grows only after a full round. A
// publish whose connection is lost before its confirm fails (kUnavailable): the caller retries
// it, nothing is dropped silently.
//
// Permissions (one RabbitMQ user per role, docs/broker.md): a publish RabbitMQ refuses (403
// ACCESS_REFUSED closes the channel) fails that publish with kPermissionDenied; the publisher
// opens the channel again on the same connection and sends the other events in flight again. A
// binding RabbitMQ refuses makes subscribe() fail with kPermissionDenied; the consumer goes on
// with the other keys. A user without configure permission on the exchange checks that it
// exists (passive declare) instead of declaring it.
//
// Thread-safety: publish, subscribe, connected and health are safe from any thread. Handlers run
// on the consumer thread, one delivery at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "amqp_connection.hpp"
#include "amqp_url.hpp"
#include "broker_nodes.hpp"
#include "delivery_rejector.hpp"
#include "dfd/broker.hpp"
#include "dfd/events.hpp"
#include "publish_refusal.hpp"
#include "queue_type.hpp"

namespace dfd::broker_rabbitmq {

class RabbitBroker final : public Broker {
 public:
  explicit RabbitBroker(HostServices& host);
  ~RabbitBroker() override;

  Status init();  // parses and validates the config; no sockets yet
  Status start() noexcept override;
  void stop() noexcept override;
  Health health() const noexcept override;

  Status publish(std::string_view routing_key, std::string_view body,
                 std::chrono::milliseconds timeout) noexcept override;
  Status subscribe(std::vector<std::string> binding_keys, EventHandler handler) noexcept override;
  bool connected() const noexcept override { return pub_connected_.load(); }

 private:
  struct Options {
    std::vector<AmqpTarget> targets;  // `url`, or the nodes of `urls` (broker_nodes.hpp)
    TlsFiles tls;                     // with amqps:// urls (amqp_tls.hpp)
    std::string exchange = "dfd";
    std::string queue;
    QueueType queue_type = QueueType::kClassic;
    int prefetch = 256;
    int heartbeat_s = 10;
    std::chrono::milliseconds confirm_timeout{2000};
    std::chrono::milliseconds reconnect_max{5000};
    // Largest delivery body accepted; a bigger one is rejected without being held in memory.
    std::size_t max_body = events::limits::kMaxEventBytes;
    // Routing keys, or event kinds (the first two segments), published non-persistent (config
    // `transient`); heartbeats by default: a
    // heartbeat is stale by the time a restarted broker could deliver it.
    std::set<std::string> transient{"server.heartbeat"};
  };
  struct PendingPublish {
    std::string key, body;
    std::chrono::steady_clock::time_point deadline;
    std::promise<Status> done;
  };
  using Inflight = std::map<std::uint64_t, std::unique_ptr<PendingPublish>>;
  struct Subscription {
    std::vector<std::string> keys;
    EventHandler handler;
  };
  struct Parked {  // a delivery no subscription matches yet (see consumer_session)
    std::uint64_t tag;
    std::string key, body;
  };

  Status load_options();
  void publisher_main();
  void consumer_main();
  Status setup_publisher(AmqpConnection& c);
  // Ends on a lost connection, on stop, and after a basic.nack (`nacked` set): RabbitMQ could
  // not store an event, e.g. a quorum queue the channel still routes to its old leader after a
  // node died; a new connection (to the next node) routes to the current one.
  Status publisher_session(AmqpConnection& c, bool& nacked);
  // Reads acks/nacks. A channel closed with 403 returns kPermissionDenied and fills `refusal`.
  // After a basic.nack (its callers told) returns kUnavailable with `nacked` set.
  Status read_confirms(amqp_connection_state_t conn, Inflight& inflight, PublishRefusal& refusal,
                       bool& nacked);
  // After a refused publish: fails the refused events in flight, moves the others to `resend`
  // (in order), opens the channel again in confirm mode.
  Status recover_from_refusal(AmqpConnection& c, const PublishRefusal& refusal, Inflight& inflight,
                              std::deque<std::unique_ptr<PendingPublish>>& resend);
  // Declares the topic exchange, or, when the user may not configure it, checks that it exists.
  Status declare_exchange(AmqpConnection& c, const AmqpTarget& t);
  // The node each connection is on (or tries next) and how it is shown: "amqp://u:***@h:p/"
  // plus " (node 2 of 3)" with several urls.
  const AmqpTarget& pub_target() const { return opt_.targets[pub_node_.load()]; }
  const AmqpTarget& con_target() const { return opt_.targets[con_node_.load()]; }
  std::string node_text(std::size_t i) const;
  // After a failed connect or a lost connection: moves `nodes` to the next node and waits
  // (briefly within a round of nodes, `backoff` doubling after a full round). True when stopped.
  bool next_node(NodeRotation& nodes, std::atomic<std::size_t>& node,
                 std::chrono::milliseconds& backoff, bool fatal);
  Status setup_consumer(AmqpConnection& c, std::set<std::string>& bound);
  Status bind_new_keys(AmqpConnection& c, std::set<std::string>& bound);
  Status consumer_session(AmqpConnection& c, std::set<std::string>& bound);
  // Calls the handlers matching `key`; acks on success, nacks (requeue) after a delay otherwise.
  // Returns an error only when the connection failed.
  Status deliver(amqp_connection_state_t conn, std::uint64_t tag, const std::string& key,
                 const std::string& body, bool& matched);
  // The broker cancelled our consumer (queue deleted): counted, remembered for health.
  void note_cancel();
  std::vector<std::shared_ptr<Subscription>> subscriptions() const;
  // Waits up to `d`, returning early (true) when stop() was called.
  bool wait_for_stop(std::chrono::milliseconds d);
  void wake(int fd);
  // Logs a connect failure: warn the first time and whenever the reason changes, else debug.
  void note_error(const char* role, const Status& st, std::string& last_logged);
  void fail_all(std::deque<std::unique_ptr<PendingPublish>>& q, const Status& st);

  HostServices& host_;
  Options opt_;
  Counter& published_;
  Counter& failures_;
  Counter& consumed_;
  Counter& cancels_;
  Counter& refused_;
  Gauge& connected_gauge_;
  Gauge& pub_node_gauge_;
  Gauge& con_node_gauge_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> pub_connected_{false};
  std::atomic<bool> con_connected_{false};
  std::atomic<std::size_t> pub_node_{0};  // index into opt_.targets; written by its thread only
  std::atomic<std::size_t> con_node_{0};
  int pub_wake_fd_ = -1;  // eventfds (new work, stop); set in start() before the threads exist
  int con_wake_fd_ = -1;
  std::chrono::milliseconds handler_retry_delay_{100};  // consumer thread only
  std::set<std::string> refusals_logged_;               // publisher thread only
  std::uint64_t confirmed_ = 0;                         // publisher thread only
  std::unique_ptr<DeliveryRejector> rejector_;          // consumer thread only (after init)
  std::thread publisher_;
  std::thread consumer_;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<std::unique_ptr<PendingPublish>> pub_queue_;
  bool started_ = false;
  int threads_running_ = 0;
  int pub_fd_ = -1;  // sockets of the live connections (for shutdown(2) from stop())
  int con_fd_ = -1;
  bool pub_first_attempt_done_ = false;
  Status pub_first_status_;
  std::string pub_last_error_ = "not started";
  std::string con_last_error_ = "not connected yet";
  std::vector<std::shared_ptr<Subscription>> subs_;
  std::set<std::string> wanted_keys_;
  std::map<std::string, std::string> refused_bindings_;  // key -> RabbitMQ's refusal
  std::string queue_error_;  // the queue exists with another type (queue_type.hpp); "" if not
  std::uint64_t keys_generation_ = 0;   // bumped when wanted_keys_ grows
  std::uint64_t bound_generation_ = 0;  // wanted_keys_ generation the consumer has bound
  std::chrono::steady_clock::time_point consume_started_{};
  std::uint64_t cancel_count_ = 0;  // basic.cancel received from RabbitMQ
  std::chrono::steady_clock::time_point last_cancel_{};
};

}  // namespace dfd::broker_rabbitmq
