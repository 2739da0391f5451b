// One broker plugin instance with its own fake host, as broker tests make them.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "fake_host.hpp"

namespace dfd::test {

struct BrokerInstance {
  std::unique_ptr<FakeHost> host;
  LoadedPlugin plugin;  // destroyed before `host`
  Broker* broker = nullptr;
};

struct BrokerFactory {
  std::string name;
  std::function<Result<BrokerInstance>()> make;
};

inline std::ostream& operator<<(std::ostream& os, const BrokerFactory& f) {
  return os << f.name;
}

}  // namespace dfd::test
