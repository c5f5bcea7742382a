#pragma once

#include <functional>
#include <string>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace herald {

/// What a sink tells its connection, in order.
struct sink_signal {
  enum class kind { attached, batch, ended };
  kind what = kind::ended;
  reply attach;       ///< kind::attached: {"session","cursor"}, or the failure
  stream_batch batch; ///< kind::batch
  stream_end end;     ///< kind::ended: why the stream must close
};

/// Who opens a stream: a connection (an id unique to it) and how many
/// streams it opened before this one. A session told of an older stream of
/// the same connection after a newer one refuses it instead of letting it
/// supersede the newer one. Connection 0 is anonymous and never matches.
struct stream_owner {
  std::uint64_t connection = 0;
  std::uint64_t generation = 0;
};

/// A connection id for stream_owner: random start, then counting, so ids of
/// different nodes do not meet.
std::uint64_t make_connection_id();

/// Called on an actor thread; the connection posts to its strand.
using sink_callback = std::function<void(sink_signal)>;

/// Spawns the actor that owns one open stream on behalf of its connection:
/// it looks the session up, attaches with `cursor` (superseding any older
/// stream or listen of that session), and forwards every batch the session
/// pushes. It ends after `kind::ended` (unknown session, superseded, session
/// ended, node draining); killing it (connection closed) detaches it, and
/// the session keeps every event for the client's resume.
///
/// A `paced` sink is fed a bounded window at a time: its connection sends it
/// `(flushed_atom, eid)` after each write, and the session pushes more. A
/// reader that lets live events pile up beyond max-stream-buffer is then
/// ended with reason "slow_consumer"; a large backlog alone never is.
caf::actor spawn_sink_actor(caf::actor_system& system, caf::actor directory, std::string session_id,
                            std::uint64_t cursor, sink_callback callback, bool paced = false,
                            stream_owner owner = {});

} // namespace herald
