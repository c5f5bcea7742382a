#pragma once

#include <string>
#include <string_view>

#include "http/responses.hpp"

namespace herald {

/// True for the paths of the web page and its library ("/", "/herald.js").
bool is_static_path(std::string_view path);

/// Answers GET or HEAD of a static path: the copy compiled into the binary, or,
/// when `web_root` is set (development), the file of that name under it, read
/// afresh on every request. Sends an ETag and answers If-None-Match with 304.
http_response serve_static(const http_request& req, std::string_view path,
                           const std::string& web_root);

} // namespace herald
