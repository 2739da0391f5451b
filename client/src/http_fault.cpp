#include "http_fault.hpp"

namespace dfd::client {

Fault fault_of_status(long status) {
  if (status == 206) return Fault::kNone;
  if (status == 401 || status == 403) return Fault::kAuth;
  if (status >= 500 || status == 429 || status == 0) return Fault::kTransport;
  return Fault::kStrike;
}

std::string status_fault_message(long status) {
  if (fault_of_status(status) == Fault::kNone) return "";
  return "HTTP " + std::to_string(status) + " instead of 206";
}

}  // namespace dfd::client
