// dfd wire library: check_json_limits (json_limits.hpp) as one SAX pass that counts depth and
// values without building a tree.
#include "dfd/wire/json_limits.hpp"

#include <string>

#include <nlohmann/json.hpp>

namespace dfd::wire {

namespace {
using json = nlohmann::json;

// Counts like nlohmann's parser callback does (a container's own depth is the number of
// containers around it; every event but a container's end is a value), so the bounds mean
// exactly what they meant when the client applied them through that callback.
class LimitCounter : public nlohmann::json_sax<json> {
 public:
  std::string why;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t&) override { return value(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    if (why.empty()) why = "not JSON";
    return false;
  }

 private:
  int depth_ = 0;
  std::size_t values_ = 0;

  bool value() {
    if (depth_ > JsonLimits::kMaxDepth)
      return fail("nested deeper than " + std::to_string(JsonLimits::kMaxDepth) + " levels");
    if (++values_ > JsonLimits::kMaxValues)
      return fail("more than " + std::to_string(JsonLimits::kMaxValues) + " JSON values");
    return true;
  }
  bool open() {
    if (!value()) return false;
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }
  bool fail(std::string w) {
    why = std::move(w);
    return false;
  }
};
}  // namespace

Status check_json_limits(std::string_view text) {
  if (text.size() > JsonLimits::kMaxBytes)
    return Status::InvalidArgument("larger than " + std::to_string(JsonLimits::kMaxBytes >> 20) +
                                   " MiB");
  LimitCounter counter;
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &counter);
  } catch (const std::exception&) {  // not expected: the counter turns errors into `false`
    ok = false;
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument(counter.why.empty() ? "not JSON" : counter.why);
}

}  // namespace dfd::wire
