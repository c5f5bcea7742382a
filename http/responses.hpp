#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

namespace herald {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Returns `{"error":{"code":…,"message":…}}`.
std::string error_body(std::string_view code, std::string_view message);

/// A JSON response with the request's HTTP version and keep-alive.
http_response make_json_response(const http_request& req, unsigned status, std::string body);

/// A JSON error response: the status the contract assigns to `code`.
http_response make_error_response(const http_request& req, std::string_view code,
                                  std::string_view message);

/// A JSON error response for a request that could not even be parsed (no
/// request to copy version and keep-alive from): HTTP/1.1, Connection: close.
http_response make_bare_error_response(unsigned status, std::string_view code,
                                       std::string_view message);

} // namespace herald
