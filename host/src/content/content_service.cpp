// Placeholder until the data plane lands: reports NotSupported honestly.
#include "content/content_service.hpp"

namespace dfd::host {
Result<ContentOptions> parse_content_options(const toml::table&, const std::string& file) {
  return Status::NotSupported(file + ": [content] (file server role) is not built yet");
}
struct ContentService::Impl {};
ContentService::ContentService(ContentContext, ContentOptions) {}
ContentService::~ContentService() = default;
Status ContentService::start() noexcept { return Status::NotSupported("file server role not built yet"); }
void ContentService::stop(int) noexcept {}
void ContentService::rescan() noexcept {}
Health ContentService::health() const noexcept { return {false, "not built"}; }
std::string ContentService::bound_address() const { return {}; }
std::string ContentService::public_url() const { return {}; }
}  // namespace dfd::host
