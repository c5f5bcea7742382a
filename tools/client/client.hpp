#pragma once

// herald::client::client — a Herald v1 client for native programs: enters a
// session, joins groups, sends commands, and hands over every event exactly
// once and in order, reconnecting and resuming by itself. See
// docs/native-client.md for a walk-through.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "tools/client/backoff.hpp"
#include "tools/client/link_problem.hpp"
#include "tools/client/resume_state.hpp"
#include "tools/client/server_url.hpp"
#include "tools/client/transport.hpp"

namespace herald::client {

/// Everything a client is told before it starts.
struct client_options {
  server_url url;                  ///< e.g. parse_server_url("http://127.0.0.1:8080", error)
  std::string user;                ///< the `enter` user name (empty: the token's sub)
  std::string token;               ///< a JWT for `enter` when the server authenticates
  std::vector<std::string> groups; ///< joined by the first `enter`
  transport_kind transport = transport_kind::websocket;
  std::optional<unsigned> lease; ///< seconds; the server's default when empty
  backoff_policy backoff{};      ///< delays between reconnection attempts
  /// Commands waiting while disconnected (the one in flight included); more are
  /// refused at once with error code `queue_full`.
  std::size_t max_queued_commands = 100;
  std::chrono::seconds call_timeout{15};    ///< a command without reply means a dead link
  std::chrono::seconds idle_timeout{45};    ///< a silent stream means a dead link
  std::chrono::seconds listen_timeout{25};  ///< long-poll wait per request
  std::chrono::seconds connect_timeout{10}; ///< TCP connect (and WebSocket handshake)
  /// Give up (stop with `unreachable`) after this long without a connection;
  /// zero keeps trying forever. The very first connection is never retried.
  std::chrono::seconds give_up_after{0};
  /// `stop()` waits at most this long to send what is queued and `exit`.
  std::chrono::seconds stop_timeout{5};
  bool deliver_heartbeats = false; ///< pass `{"type":"heartbeat"}` frames to on_event
};

/// After the session was lost (node loss, lease expiry) the client enters
/// again and rejoins each group with `since`; this says how that went.
struct rejoin_report {
  std::string group;
  bool recovered = false; ///< false: messages after `since` may be lost
  group_position since;   ///< the last message seen before the loss
  json result;            ///< the `join` result (`{"group","seq","epoch","recovered"}`)
};

/// Why a client stopped.
enum class stop_reason {
  requested,   ///< stop() was called (or a destructor ran)
  unreachable, ///< no connection at start, or none within give_up_after
  refused,     ///< the server refused the session (its error is in the message)
  superseded,  ///< another client took the session over
  failed,      ///< the server said the stream can never work
};

/// Returns "requested", "unreachable", "refused", "superseded" or "failed".
const char* to_string(stop_reason reason);

struct stop_report {
  stop_reason reason = stop_reason::requested;
  std::string message;    ///< human readable
  std::size_t unsent = 0; ///< queued commands that were never sent
};

/// What the client tells its owner. Every handler is optional and runs on the
/// client's executor.
struct client_handlers {
  /// One event frame, exactly as the server sent it: each at most once, in
  /// eid order; duplicates from resumes are dropped. Heartbeats only when
  /// `deliver_heartbeats`.
  std::function<void(const json& event)> on_event;
  /// A session was entered: the `enter` result (`session`, `user`, `lease`,
  /// `groups`). Runs again when a lost session is replaced.
  std::function<void(const json& enter_result)> on_session;
  /// A group was rejoined after the session was lost.
  std::function<void(const rejoin_report& report)> on_rejoin;
  /// Progress for humans: connected, disconnected, reconnecting in …
  std::function<void(const std::string& text)> on_status;
  /// The client stopped for good; nothing runs after this.
  std::function<void(const stop_report& report)> on_stopped;
};

/// Receives the reply frame of a command without its `id`:
/// `{"result":{…}}` or `{"error":{"code","message"}}`. Besides the server's
/// codes, `queue_full` (too many commands waiting) and `not_sent` (the client
/// stopped first) come from the client itself.
using reply_handler = std::function<void(const json& reply)>;

/// A Herald client. Single-threaded: call it from its executor's thread only
/// (post to it from others). Commands run one at a time, in submission order;
/// while disconnected they wait (bounded) and go out after the next connect.
/// A command whose connection broke before its reply came is sent again, so a
/// command may (rarely) run twice; every one is answered exactly once.
class client {
public:
  client(boost::asio::any_io_executor executor, client_options options, client_handlers handlers);

  /// Stops at once without sending anything more; no handler runs afterwards.
  ~client();

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Connects and enters. Call once.
  void start();

  /// Queues `method` with `params`; the client adds `session`. `on_reply`
  /// runs once, later, with the reply. `join` and `leave` replies also update
  /// the groups the client rejoins after a session loss.
  void submit(std::string method, json params, reply_handler on_reply);

  /// Sends what is queued (when connected), waits for the client's own
  /// messages to joined groups to come back as events, ends the session with
  /// `exit`, and stops — all within stop_timeout; then on_stopped runs with
  /// `requested`.
  void stop();

  /// Returns true while a stream is established.
  bool connected() const;

  /// Returns the resume bookkeeping (session, last eid, groups).
  const resume_state& state() const;

private:
  class impl;
  std::shared_ptr<impl> impl_;
};

} // namespace herald::client
