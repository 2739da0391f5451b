#include "logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include "log_time.hpp"

namespace dfd::host {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, LogLevel level) {
  static const auto sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    s->set_pattern(kLogLinePattern);  // local time with its UTC offset
    return s;
  }();
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

bool PluginLogger::enabled(LogLevel level) const noexcept {
  return logger_->should_log(to_spdlog(level));
}

void PluginLogger::log(LogLevel level, std::string_view message) noexcept {
  try {
    logger_->log(to_spdlog(level), "{}", message);
  } catch (...) {
    // Logging must never take the caller down.
  }
}

}  // namespace dfd::host
