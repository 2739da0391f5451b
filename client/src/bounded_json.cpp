#include "bounded_json.hpp"

namespace dfd::client {

namespace {
struct LimitBroken {
  std::string why;
};
}  // namespace

std::optional<nlohmann::json> parse_bounded_json(std::string_view text, std::string* why) {
  auto fail = [&](std::string w) -> std::optional<nlohmann::json> {
    if (why) *why = std::move(w);
    return std::nullopt;
  };
  if (text.size() > kMaxJsonBytes)
    return fail("larger than " + std::to_string(kMaxJsonBytes >> 20) + " MiB");
  std::size_t values = 0;
  using Event = nlohmann::json::parse_event_t;
  auto limit = [&](int depth, Event ev, nlohmann::json&) {
    if (depth > kMaxJsonDepth)
      throw LimitBroken{"nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
    if (ev != Event::object_end && ev != Event::array_end && ++values > kMaxJsonValues)
      throw LimitBroken{"more than " + std::to_string(kMaxJsonValues) + " JSON values"};
    return true;
  };
  try {
    auto j = nlohmann::json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
    if (j.is_discarded()) return fail("not JSON");
    return j;
  } catch (const LimitBroken& e) {
    return fail(e.why);
  }
}

}  // namespace dfd::client
