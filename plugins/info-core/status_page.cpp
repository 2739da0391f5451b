#include "status_page.hpp"

#include "embedded_assets.hpp"

namespace dfd::info {

namespace {
HttpHandler asset_handler(const char* name) {
  const EmbeddedAsset* asset = find_embedded_asset(name);
  return [asset, name](const HttpRequest&, HttpResponse& r) {
    if (!asset) {
      set_json_error(r, 404, "not_found", std::string("no status page file ") + name);
      return;
    }
    r.status = 200;
    r.content_type = asset->content_type;
    r.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
    r.headers.emplace_back("Content-Security-Policy", kStatusPagePolicy);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("Cache-Control", "no-cache");
  };
}
}  // namespace

Status add_status_page_routes(HttpRoutes& http) {
  DFD_RETURN_IF_ERROR(http.add("GET", "/ui", asset_handler("index.html")));
  DFD_RETURN_IF_ERROR(http.add("GET", "/ui/status.js", asset_handler("status.js")));
  DFD_RETURN_IF_ERROR(http.add("GET", "/ui/status.css", asset_handler("status.css")));
  return http.add("GET", "/ui/favicon.png", asset_handler("favicon.png"));
}

}  // namespace dfd::info
