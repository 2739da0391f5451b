// Rule broken: create() fails with a Status (a config value it refuses).
#include "broken_common.hpp"

namespace {
class Refuses : public dfd::Plugin {
 public:
  explicit Refuses(dfd::HostServices& host) : host_(host) {}
  dfd::Status init() {
    DFD_RETURN_IF_ERROR(host_.config().allow_only({"answer"}));
    auto v = host_.config().int_or("answer", 0);
    if (!v.ok()) return v.status();
    if (*v != 42) return host_.config().error("answer", "must be 42");
    return dfd::Status::Ok();
  }

 private:
  dfd::HostServices& host_;
};
}  // namespace

DFD_PLUGIN(dfd::PluginKind::kDigest, "broken-create", "0.0.1", "refuses its config", nullptr, 0,
           &dfd::create_plugin<Refuses>, &dfd::destroy_plugin<Refuses>)
