// The broker tests' instances as cases of the SDK's broker conformance suite
// (dfd/testing/broker_conformance.hpp, which defines the tests: include this header in ONE
// translation unit per test program).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "broker_instance.hpp"
#include "dfd/testing/broker_conformance.hpp"

namespace dfd::test {

// A conformance case whose subjects `make` builds (a failure to build one fails the test).
inline conformance::BrokerCase broker_case(std::string name,
                                           std::function<Result<BrokerInstance>()> make) {
  struct Subject final : conformance::BrokerSubject {
    explicit Subject(BrokerInstance i) : inst(std::move(i)) {}
    Broker& broker() override { return *inst.broker; }
    void stop() override { inst.plugin.stop(); }
    BrokerInstance inst;
  };
  return {std::move(name),
          [make = std::move(make)]() -> std::unique_ptr<conformance::BrokerSubject> {
            auto r = make();
            if (!r.ok()) {
              ADD_FAILURE() << r.status().to_string();
              return nullptr;
            }
            return std::make_unique<Subject>(std::move(*r));
          }};
}

}  // namespace dfd::test
