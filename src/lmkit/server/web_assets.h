// The chat page served at "/": web/index.html, web/app.js, web/style.css and the Debian-packaged
// libraries they load (marked, DOMPurify, highlight.js), embedded into the binary at build time
// (cmake/web_assets.cmake), so `lmkit serve` needs no files beside it.
#pragma once
#include <string_view>
#include <vector>

namespace lmkit::server {

struct WebAsset {
  std::string_view path;          // "/index.html", "/assets/app.js", ...
  std::string_view content_type;  // for the Content-Type header
  std::string_view body;
};

const std::vector<WebAsset>& web_assets();

// The asset served for a request path ("/" is "/index.html"), or nullptr.
inline const WebAsset* find_web_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const WebAsset& a : web_assets())
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace lmkit::server
