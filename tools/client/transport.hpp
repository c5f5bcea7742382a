#pragma once

// One way of talking to a Herald server: WebSocket, long-poll or SSE. The
// client (client.hpp) drives a transport through the same few steps whatever
// it is, and makes a new one for every connection attempt.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "tools/client/link_problem.hpp"
#include "tools/client/server_url.hpp"

namespace herald::client {

/// The transports a client can use.
enum class transport_kind { websocket, longpoll, sse };

/// Returns "websocket", "longpoll" or "sse".
const char* to_string(transport_kind kind);

/// The reply to one command frame, or why none came.
struct call_outcome {
  std::optional<json> reply;           ///< {"id","result"} or {"id","error"}
  std::optional<link_problem> problem; ///< set exactly when `reply` is empty
};

/// What a transport tells the client about a session's event stream.
struct stream_handlers {
  /// The stream is established: events after the cursor will follow.
  std::function<void()> on_started;
  /// One event frame, or a heartbeat (`{"type":"heartbeat",…}`).
  std::function<void(json frame)> on_frame;
  /// The stream ended and nothing more comes from this transport's stream.
  std::function<void(link_problem why)> on_end;
};

/// Settings every transport reads.
struct transport_settings {
  server_url url;
  /// A stream silent this long (not even a heartbeat) is taken as lost.
  std::chrono::seconds idle_timeout{45};
  /// Long-poll: the server-side wait of one `listen`.
  std::chrono::seconds listen_timeout{25};
  /// Connecting (TCP and, for WebSocket, the handshake) takes at most this.
  std::chrono::seconds connect_timeout{10};
  /// One command over HTTP (connect, send, answer) takes at most this.
  std::chrono::seconds call_timeout{15};
};

/// A connection to the server. Callbacks run on the executor the transport
/// was made with, never inside the call that started them, and never after
/// `close()` returned. Not thread-safe: use it from that executor only.
class transport {
public:
  virtual ~transport() = default;

  /// Connects. `done` gets nullopt when commands can be sent, else why not
  /// (`lost` when the server cannot be reached, `refused` when it answered
  /// the connection with an error). HTTP transports connect per request and
  /// succeed here at once.
  virtual void open(std::function<void(std::optional<link_problem>)> done) = 0;

  /// Sends one command frame and passes its reply (or why none came) to `done`,
  /// exactly once unless the transport is closed first. The frame's `id` may be
  /// replaced by the transport's own.
  virtual void call(json frame, std::function<void(call_outcome)> done) = 0;

  /// Starts `session`'s event stream after eid `cursor` (which acknowledges
  /// everything up to it). At most once per transport.
  virtual void start_stream(const std::string& session, std::uint64_t cursor,
                            stream_handlers handlers)
      = 0;

  /// Cancels everything in flight; no callback runs afterwards.
  virtual void close() = 0;
};

/// Makes a transport of `kind`.
std::shared_ptr<transport> make_transport(transport_kind kind,
                                          boost::asio::any_io_executor executor,
                                          const transport_settings& settings);

} // namespace herald::client
