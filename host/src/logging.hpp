// Logging: one spdlog logger per plugin (and one for the host), all writing through one shared
// stderr sink. Loggers are never registered in spdlog's global registry, so plugins cannot reach
// each other's loggers and no .so sees a split registry. Every line carries the logger's name.
//
// Thread-safety: spdlog loggers over a *_mt sink are thread-safe; PluginLogger adds no state.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "dfd/host_services.hpp"

namespace dfd::host {

spdlog::level::level_enum to_spdlog(LogLevel level);

// A new unregistered logger named `name` on the shared stderr sink.
std::shared_ptr<spdlog::logger> make_logger(const std::string& name, LogLevel level);

// dfd::Logger over an spdlog logger.
class PluginLogger final : public Logger {
 public:
  explicit PluginLogger(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
  bool enabled(LogLevel level) const noexcept override;
  void log(LogLevel level, std::string_view message) noexcept override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace dfd::host
