#include "queue_type.hpp"

namespace dfd::broker_rabbitmq {

const char* queue_type_name(QueueType t) {
  return t == QueueType::kQuorum ? "quorum" : "classic";
}

Result<QueueType> load_queue_type(const Config& cfg, bool cluster) {
  if (!cfg.has("queue_type")) return cluster ? QueueType::kQuorum : QueueType::kClassic;
  auto v = cfg.get_string("queue_type");
  if (!v.ok()) return v.status();
  if (*v == "classic") return QueueType::kClassic;
  if (*v == "quorum") return QueueType::kQuorum;
  return cfg.error("queue_type", "\"classic\" or \"quorum\", got \"" + v->substr(0, 64) + "\"");
}

amqp_table_t queue_declare_arguments(QueueType t) {
  if (t == QueueType::kClassic) return amqp_empty_table;
  static char key[] = "x-queue-type";
  static char value[] = "quorum";
  static amqp_table_entry_t entry = [] {
    amqp_table_entry_t e{};
    e.key = amqp_bytes_t{sizeof key - 1, key};
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_bytes_t{sizeof value - 1, value};
    return e;
  }();
  return amqp_table_t{1, &entry};
}

Status mismatch_error(const Status& refusal, const std::string& queue, QueueType wanted) {
  if (refusal.code() != Code::kFailedPrecondition ||
      refusal.message().find("x-queue-type") == std::string::npos) {
    return refusal;
  }
  const char* want = queue_type_name(wanted);
  const char* other = wanted == QueueType::kQuorum ? "classic" : "quorum";
  return Status::FailedPrecondition(
      std::string("broker-rabbitmq: queue '") + queue + "' exists as a " + other +
      " queue, but this server declares it with queue_type = \"" + want +
      "\" (RabbitMQ cannot change a queue's type). Set queue_type = \"" + other +
      "\" in the broker-rabbitmq section, or move the queue: stop this server, delete the queue "
      "(rabbitmqctl delete_queue " +
      queue +
      "; events still in it are lost) and start again. "
      "RabbitMQ said: " +
      refusal.message());
}

}  // namespace dfd::broker_rabbitmq
