#include "bounded_json.hpp"

namespace dfd::client {

std::optional<nlohmann::json> parse_bounded_json(std::string_view text, std::string* why) {
  if (Status st = wire::check_json_limits(text); !st.ok()) {
    if (why) *why = st.message();
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {  // not expected: check_json_limits parsed it
    if (why) *why = "not JSON";
    return std::nullopt;
  }
  return j;
}

}  // namespace dfd::client
