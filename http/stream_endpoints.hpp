#pragma once

// The streaming endpoints: they validate the request, then hand the socket
// over to a stream_session (SSE, forever-frame) or websocket_session.

#include <string_view>

#include "http/endpoints.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"
#include "http/server_context.hpp"

namespace herald {

/// GET /v1/sse?session=[&cursor=] | ?user=&groups= ; Last-Event-ID wins.
void serve_sse(server_context& ctx, const http_request& req, std::string_view query, responder& out,
               const finisher& finish);

/// GET /v1/stream?session=&callback=[&cursor=]: forever-frame.
void serve_forever_frame(server_context& ctx, const http_request& req, std::string_view query,
                         responder& out, const finisher& finish);

/// GET /v1/ws: WebSocket upgrade (subprotocol herald.v1).
void serve_websocket(server_context& ctx, http_request req, responder& out, const finisher& finish);

} // namespace herald
