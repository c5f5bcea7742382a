#pragma once

#include <string_view>
#include <vector>

namespace herald {

/// A file of web/ compiled into the binary (see cmake/embed_assets.cmake).
struct embedded_asset {
  std::string_view url; ///< the path it is served at, e.g. "/herald.js"
  std::string_view bytes;
};

/// The chat page and the browser library, as they were at build time.
const std::vector<embedded_asset>& embedded_assets();

} // namespace herald
