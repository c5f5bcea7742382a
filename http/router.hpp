#pragma once

#include <functional>
#include <memory>

#include <boost/beast/core/flat_buffer.hpp>
#include <caf/all.hpp>

#include "actors/command_actor.hpp"
#include "http/client_stream.hpp"
#include "http/command_budget.hpp"
#include "http/responses.hpp"
#include "http/server_context.hpp"

namespace herald {

/// Takes over a connection that becomes a stream: the socket, and the bytes
/// already read past the request (a WebSocket client may send its first
/// frame in the same packet as the upgrade).
using stream_handoff = std::function<void(client_stream&&, boost::beast::flat_buffer&&)>;

/// The connection side of one request, as the router sees it.
class responder {
public:
  virtual ~responder() = default;

  /// Writes `res` on the connection's strand; callable from any thread, once.
  virtual void respond(http_response res) = 0;

  /// Called on the connection's strand with the actor now working for the
  /// request; the connection kills it when the client goes away first.
  virtual void watch(caf::actor worker) = 0;

  /// Called on the connection's strand: the request turns the connection
  /// into a stream (SSE, forever-frame, WebSocket). `next` receives the socket
  /// and the read buffer at once; the HTTP connection reads no further request.
  virtual void hand_over(stream_handoff next) = 0;

  /// Called on the connection's strand: performs a `POST /v1/publish` and
  /// calls `answer` (from any thread) with its reply. The connection may
  /// gather the publishes of pipelined requests into one request actor that
  /// performs them in their order.
  virtual void publish(publish_request request, std::function<void(const reply&)> answer) = 0;

  /// The connection's `--rate-limit` budget; used on its strand.
  virtual command_budget& budget() = 0;

  /// The client `req` comes from (--trusted-proxies), for per-address limits.
  virtual std::string client_address(const http_request& req) = 0;
};

/// Routes one request: answers at once, or spawns a request actor that
/// answers through `out` later. Adds CORS headers to every answer.
void route(server_context& ctx, http_request req, std::shared_ptr<responder> out);

} // namespace herald
