#include "info_status.hpp"

#include "util.hpp"

namespace dfd::client {

int exit_code_for_info_status(long status) {
  if (status == 401 || status == 403) return exit_code::kAuth;
  if (status == 404) return exit_code::kNotFound;
  if (status == 429) return exit_code::kThrottled;
  return exit_code::kServer;
}

std::optional<long> parse_retry_after(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() &&
         (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
    v.remove_suffix(1);
  if (v.empty() || v.size() > 9) return std::nullopt;
  long n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string info_error_message(const std::string& context, long status,
                               const std::string& server_message, std::optional<long> retry_after) {
  if (status != 429)
    return context + ": " +
           (server_message.empty() ? "HTTP " + std::to_string(status) : server_message);
  const std::string failed = " failed";
  std::string subject =
      context.size() > failed.size() &&
              context.compare(context.size() - failed.size(), failed.size(), failed) == 0
          ? context.substr(0, context.size() - failed.size()) + " throttled"
          : context + ": throttled";
  std::string when =
      retry_after ? "try again in " + std::to_string(*retry_after) + " s" : "try again later";
  // The server's message often repeats the wait ("too many failed logins; retry in 30 s").
  std::string why = server_message.substr(0, server_message.find("; retry in"));
  return subject + ": " + when + (why.empty() ? "" : " (" + why + ")");
}

}  // namespace dfd::client
