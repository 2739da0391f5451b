// The broker tests' event collector is the SDK's (dfd/testing/event_sink.hpp, issue 15).
#pragma once

#include "dfd/testing/event_sink.hpp"

namespace dfd::test {
using conformance::EventSink;
}  // namespace dfd::test
