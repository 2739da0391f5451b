// broker-rabbitmq: the type of the per-server queue (config `queue_type`).
//
//   classic  RabbitMQ's classic queue, declared without arguments, as before issue 16. It lives
//            on one node: when that node is down the queue and its messages are unavailable.
//   quorum   a quorum queue (x-queue-type = quorum): replicated to every node of the cluster
//            (Raft); it stays available and keeps every confirmed message while a majority of
//            the nodes runs. The default when `urls` lists more than one node.
//
// RabbitMQ never changes the type of an existing queue: declaring one with the other type fails
// with 406 PRECONDITION_FAILED (inequivalent arg 'x-queue-type'). mismatch_error() turns that
// into an error naming the queue and the option, and what to do about it.
//
// Pure functions: thread-safe.
#pragma once

#include <amqp.h>

#include <string>

#include "dfd/host_services.hpp"
#include "dfd/status.hpp"

namespace dfd::broker_rabbitmq {

enum class QueueType { kClassic, kQuorum };

const char* queue_type_name(QueueType t);

// Reads `queue_type` ("classic" or "quorum"); absent: quorum when `cluster` (several URLs),
// classic otherwise. Another value is a config error naming file:line:key.
Result<QueueType> load_queue_type(const Config& cfg, bool cluster);

// The arguments of queue.declare for `t`: empty for classic (the declaration of earlier
// versions, so their queues match), {x-queue-type: quorum} for quorum. Points to static storage.
amqp_table_t queue_declare_arguments(QueueType t);

// For a queue.declare RabbitMQ refused with 406 (`refusal`, from check_rpc): when it is about
// x-queue-type, kFailedPrecondition naming the queue, its type and the option; otherwise
// `refusal` unchanged.
Status mismatch_error(const Status& refusal, const std::string& queue, QueueType wanted);

}  // namespace dfd::broker_rabbitmq
