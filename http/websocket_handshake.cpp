#include "http/websocket_handshake.hpp"

#include <algorithm>

#include <boost/beast/http/rfc7230.hpp>

namespace herald {

namespace http = boost::beast::http;

namespace {

// A Sec-WebSocket-Key is 16 random bytes in base64: 22 characters and "==".
bool is_valid_key(std::string_view key) {
  if (key.size() != 24 || !key.ends_with("=="))
    return false;
  return std::all_of(key.begin(), key.end() - 2, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
           || c == '/';
  });
}

} // namespace

std::string handshake_problem(const http_request& req) {
  if (req.version() < 11)
    return "HTTP/1.1 is required for a WebSocket upgrade";
  if (req[http::field::host].empty())
    return "Host: required";
  if (!is_valid_key(req[http::field::sec_websocket_key]))
    return "Sec-WebSocket-Key: required, 16 bytes in base64";
  if (req[http::field::sec_websocket_version] != "13")
    return "Sec-WebSocket-Version: must be 13";
  return {};
}

subprotocol_choice choose_subprotocol(const http_request& req) {
  bool offered = false;
  auto [first, last] = req.equal_range(http::field::sec_websocket_protocol);
  for (auto field = first; field != last; ++field) {
    for (auto token : http::token_list{field->value()}) {
      offered = true;
      if (token == websocket_subprotocol)
        return subprotocol_choice::herald;
    }
  }
  return offered ? subprotocol_choice::refused : subprotocol_choice::none;
}

std::size_t websocket_message_limit(const settings& s) {
  if (!s.ws_deflate)
    return s.ws_max_frame;
  return std::min(s.ws_max_frame, s.ws_max_inflated);
}

boost::beast::websocket::permessage_deflate websocket_deflate_option(const settings& s) {
  boost::beast::websocket::permessage_deflate option;
  option.server_enable = s.ws_deflate;
  option.client_enable = false;
  // Compressing a heartbeat or a short reply costs more than it saves.
  option.msg_size_threshold = 256;
  return option;
}

} // namespace herald
