// info-core: the status page's files (ui/: index.html, status.js, status.css, favicon.png),
// embedded in the library at build time by cmake/embed_assets.cmake (the generated ui_assets.cpp
// defines find_embedded_asset). Immutable static data: thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace dfd::info {

struct EmbeddedAsset {
  const char* name;          // "status.js"
  const char* content_type;  // "text/javascript; charset=utf-8"
  const unsigned char* data;
  std::size_t size;
};

// The asset named `name` (a file name in ui/), or nullptr.
const EmbeddedAsset* find_embedded_asset(std::string_view name);

}  // namespace dfd::info
