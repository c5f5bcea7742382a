#pragma once

#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "http/server_context.hpp"

namespace herald {

/// Posts `on_drain` to `executor` once `ctx.draining` turns true, unless
/// `alive` has expired by then; at once when the node already drains.
///
/// For connections that nothing else would tell: an SSE stream or a
/// WebSocket with an attached session hears of the drain from its session,
/// but a WebSocket with no session would keep the node alive until
/// `--drain-timeout`. One timer per node polls the flag (ten times a
/// second, only while someone watches), so a watcher costs no timer of its
/// own. Thread-safe.
void call_on_drain(server_context& ctx, boost::asio::any_io_executor executor,
                   std::weak_ptr<void> alive, std::function<void()> on_drain);

} // namespace herald
