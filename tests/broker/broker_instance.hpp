// One broker plugin instance with its own fake host, as broker tests make them.
#pragma once

#include <memory>

#include "fake_host.hpp"

namespace dfd::test {

struct BrokerInstance {
  std::unique_ptr<FakeHost> host;
  LoadedPlugin plugin;  // destroyed before `host`
  Broker* broker = nullptr;
};

}  // namespace dfd::test
