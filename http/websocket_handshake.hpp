#pragma once

// The decisions a WebSocket upgrade needs before Beast takes over: which
// subprotocol to answer, and which limits and extensions to set. Pure
// functions of the request and the settings, so they are easy to test.

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/beast/websocket/option.hpp>

#include "actors/settings.hpp"
#include "http/responses.hpp"

namespace herald {

/// The one subprotocol Herald speaks.
inline constexpr std::string_view websocket_subprotocol = "herald.v1";

/// Returns what makes `req` unusable as an opening handshake — a message
/// naming the offending header — or an empty string. The router has checked
/// the method and the Upgrade/Connection headers; this checks the rest of
/// RFC 6455 4.2.1 up front, so that the refusal is a JSON error like every
/// other (Beast would answer in plain text).
std::string handshake_problem(const http_request& req);

/// How to answer the client's `Sec-WebSocket-Protocol` offers.
enum class subprotocol_choice {
  none,    ///< nothing offered (a native client): accept, answer no subprotocol
  herald,  ///< herald.v1 offered: accept and answer it
  refused, ///< only other subprotocols offered: answer 400, no upgrade
};

/// Returns the choice for every `Sec-WebSocket-Protocol` field of `req`
/// (comma-separated tokens, possibly over several fields). Tokens compare
/// exactly: subprotocol names are case-sensitive (RFC 6455 4.1).
subprotocol_choice choose_subprotocol(const http_request& req);

/// Returns the `read_message_max` for `s`: the largest message Herald reads.
/// Beast counts the inflated payload against it when permessage-deflate is
/// in use, so it is min(ws-max-frame, ws-max-inflated): neither limit can be
/// exceeded, compressed or not.
std::size_t websocket_message_limit(const settings& s);

/// Returns the permessage-deflate option for `s`: offered (server side only)
/// when ws-deflate is on, else disabled.
boost::beast::websocket::permessage_deflate websocket_deflate_option(const settings& s);

} // namespace herald
