#pragma once

#include <chrono>
#include <string>

#include <caf/all.hpp>

namespace herald {

/// How one session starts.
struct session_config {
  std::string id;
  std::string user;
  std::chrono::seconds lease{100};
  std::size_t queue_max = 1000;
  std::size_t max_groups = 256;
  std::size_t max_stream_buffer = 256 * 1024; ///< bytes a paced sink may fall behind
  std::int64_t token_expires_ms = 0;          ///< system-clock ms its token ends it; 0: no token
};

/// A session: its event queue (eids, acknowledgement, overflow), joined
/// groups, lease, and at most one pending listener.
///
/// Messages:
/// - (event_atom, event) — queue it; hand it to a waiting listener.
/// - (listen_atom, uint64 cursor, uint64 max, bool wait) from a listener:
///   acknowledges ≤ cursor, then sends the listener (deliver_atom, delivery)
///   now (events queued, or !wait) or when the next event arrives; a newer
///   listener supersedes an older one. A bad cursor gets (deliver_atom, reply).
/// - (join_atom, string group, actor group, since_point) → reply.
/// - (leave_atom, string group) → reply.
/// - (exit_atom) → reply; leaves every group (reason "exit") and quits.
/// - (touch_atom) — renews the lease.
/// - (token_atom, int64 expires_ms) — a fresh token moved the session's end.
/// - (drain_atom) — answers a waiting listener at once.
/// The lease runs while no listener waits; when it passes, the session leaves
/// every group with reason "expired" and quits. So does the session when
/// its token's `exp` passes, whatever else keeps it alive.
caf::actor spawn_session_actor(caf::actor_system& system, session_config config);

} // namespace herald
