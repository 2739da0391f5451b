// info-core: the status page's own routes (docs/status-page.md): GET /ui (index.html),
// GET /ui/status.js, GET /ui/status.css and GET /ui/favicon.png, from the files embedded at build
// time (embedded_assets.hpp). The page is static; its data comes from the JSON API with the user
// token the page keeps in sessionStorage, so these routes need no login.
//
// Every answer carries a strict Content-Security-Policy (scripts, styles and fetches only from
// this origin, no inline script or style, no framing, no form posting elsewhere),
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY and Referrer-Policy: no-referrer.
//
// Thread-safety: the handlers read only static data.
#pragma once

#include "dfd/host_services.hpp"

namespace dfd::info {

// The Content-Security-Policy of every status page answer.
inline constexpr const char* kStatusPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// Registers GET /ui, /ui/status.js, /ui/status.css, /ui/favicon.png.
Status add_status_page_routes(HttpRoutes& http);

}  // namespace dfd::info
