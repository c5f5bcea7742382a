#include "http/websocket_session.hpp"

namespace herald {

// Placeholder until the WebSocket transport lands: refuses politely.
websocket_session::websocket_session(boost::beast::tcp_stream&& stream, server_context& ctx)
  : ws_(std::move(stream)), ctx_(ctx) {
  ++ctx_.open_connections;
}

websocket_session::~websocket_session() { --ctx_.open_connections; }

void websocket_session::run(http_request) {
  boost::beast::error_code ignored;
  ws_.next_layer().socket().close(ignored);
}

} // namespace herald
