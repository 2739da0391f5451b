// Rule broken (on demand): its descriptor `check` (ABI minor 3) refuses a `partner` key that
// names no listed digest plugin; it looks the partner up through find_plugin(), so it also shows
// that check() runs after every plugin (also those listed after it) was created.
#include "broken_common.hpp"

namespace {
class Checks : public dfd::Plugin {
 public:
  explicit Checks(dfd::HostServices& host) : host_(host) {}
  dfd::Status init() {
    DFD_RETURN_IF_ERROR(host_.config().allow_only({"partner"}));
    auto v = host_.config().string_or("partner", "");
    if (!v.ok()) return v.status();
    partner_ = *v;
    return dfd::Status::Ok();
  }
  dfd::Status check() {
    if (!host_.find_plugin(dfd::PluginKind::kDigest, partner_)) {
      return host_.config().error("partner", "no digest plugin named '" + partner_ + "' is listed");
    }
    return dfd::Status::Ok();
  }

 private:
  dfd::HostServices& host_;
  std::string partner_;
};
}  // namespace

DFD_PLUGIN_WITH_CHECK(dfd::PluginKind::kStorage, "broken-check", "0.0.1",
                      "checks that its partner is listed", nullptr, 0, &dfd::create_plugin<Checks>,
                      &dfd::destroy_plugin<Checks>, &dfd::check_plugin<Checks>)
