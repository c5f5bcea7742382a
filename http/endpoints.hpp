#pragma once

// The JSON endpoints that run commands through request actors.

#include <functional>
#include <memory>

#include "http/responses.hpp"
#include "http/router.hpp"
#include "http/server_context.hpp"

namespace herald {

/// Finishes a request: adds CORS headers and hands the response to the
/// connection. Safe to call from any thread.
using finisher = std::function<void(http_response)>;

/// POST /v1/rpc: one command or a batch.
void serve_rpc_post(server_context& ctx, const http_request& req, responder& out, finisher finish);

/// GET /v1/rpc?q=&callback=: JSONP (only with --jsonp).
void serve_rpc_jsonp(server_context& ctx, const http_request& req, std::string_view query,
                     responder& out, finisher finish);

/// GET /v1/listen?session=&cursor=&timeout=[&callback=]: long-poll.
void serve_listen(server_context& ctx, const http_request& req, std::string_view query,
                  responder& out, finisher finish);

/// POST /v1/publish: server-side publish.
void serve_publish(server_context& ctx, const http_request& req, responder& out, finisher finish);

} // namespace herald
