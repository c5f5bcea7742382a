#include "http/responses.hpp"

#include "actors/commands.hpp"
#include "actors/event.hpp"

namespace herald {

namespace http = boost::beast::http;

std::string error_body(std::string_view code, std::string_view message) {
  return "{\"error\":{\"code\":" + json_quote(code) + ",\"message\":" + json_quote(message) + "}}";
}

http_response make_json_response(const http_request& req, unsigned status, std::string body) {
  http_response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, "herald");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  // An error may echo the request (a path): never let a browser sniff it into HTML.
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

http_response make_error_response(const http_request& req, std::string_view code,
                                  std::string_view message) {
  return make_json_response(req, status_of(std::string{code}), error_body(code, message));
}

http_response make_bare_error_response(unsigned status, std::string_view code,
                                       std::string_view message) {
  http_response res{static_cast<http::status>(status), 11};
  res.set(http::field::server, "herald");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(false);
  res.body() = error_body(code, message);
  res.prepare_payload();
  return res;
}

} // namespace herald
