#pragma once

#include <memory>

#include <caf/all.hpp>

#include "http/responses.hpp"
#include "http/server_context.hpp"

namespace herald {

/// The connection side of one request, as the router sees it.
class responder {
public:
  virtual ~responder() = default;

  /// Writes `res` on the connection's strand; callable from any thread, once.
  virtual void respond(http_response res) = 0;

  /// Called on the connection's strand with the actor now working for the
  /// request; the connection kills it when the client goes away first.
  virtual void watch(caf::actor worker) = 0;
};

/// Routes one request: answers at once, or spawns a request actor that
/// answers through `out` later. Adds CORS headers to every answer.
void route(server_context& ctx, http_request req, std::shared_ptr<responder> out);

} // namespace herald
