#pragma once

#include <memory>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include "http/responses.hpp"
#include "http/server_context.hpp"

namespace herald {

/// One WebSocket connection (subprotocol herald.v1): commands in, replies
/// and the attached session's events out.
class websocket_session : public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(boost::beast::tcp_stream&& stream, server_context& ctx);
  ~websocket_session();

  /// Accepts the upgrade `req` (already checked for Origin) and starts.
  void run(http_request req);

private:
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  server_context& ctx_;
};

} // namespace herald
