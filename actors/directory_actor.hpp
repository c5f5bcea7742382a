#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/settings.hpp"

namespace herald {

/// The node's directory: resolves session ids, user names and group names to
/// actors, creates sessions and groups, and forgets them when they end.
///
/// Messages:
/// - (create_atom, string user, bool lease_given, int64 lease)
///   → (session_ref, reply): a new session with the lease clamped into
///   [1, max-lease] (the default when not given), or a failure (draining,
///   max-sessions, max-sessions-per-user).
/// - (create_atom, string user, bool lease_given, int64 lease, int64
///   token_expires_ms, bool groups_limited, vector<string> group_patterns,
///   string client_address) → the same, for a session its token may bound
///   (expires 0: none) and counted against max-sessions-per-address.
/// - (token_atom, string session_id, int64 expires_ms, bool groups_limited,
///   vector<string> group_patterns) → bool: a ping's fresh token renews a
///   session of this node; false when it is gone.
/// - (lookup_atom, string session_id) → session_ref (handle empty when
///   unknown); a found session's lease is renewed.
/// - (group_atom, string name) → group_ref, creating the group when allowed.
/// - (user_atom, string user) → vector<actor>: that user's sessions.
/// - (drain_atom) — refuse new sessions; answer every waiting listener.
/// - (stats_atom) → node_stats.
/// An exit message (node shutdown) ends every session and group, then the
/// directory.
caf::actor spawn_directory_actor(caf::actor_system& system, std::shared_ptr<const settings> config);

} // namespace herald
