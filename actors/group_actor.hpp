#pragma once

#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/settings.hpp"

namespace herald {

/// How one group behaves, fixed when its actor starts.
struct group_config {
  std::string name;
  bool declared = false;         ///< declared groups never idle out
  bool notify = true;            ///< announce joins and leaves
  std::size_t notify_max = 1000; ///< ...while it has at most this many members
  std::size_t history = 100;     ///< messages kept for `since` and `history`
  caf::timespan idle_timeout = std::chrono::seconds{300};
};

/// A group: members (session actors and their users), `seq`/`epoch`, a
/// bounded history ring, and presence announcements.
///
/// Messages (each answered with a `reply` unless noted):
/// - (join_atom, actor session, string user, since_point) — adds the member;
///   replays history after `since` to it first when that recovers; answers
///   {"group","seq","epoch"[,"recovered"]}.
/// - (leave_atom, actor session, string reason) — removes the member; no
///   reply (sessions send it without a request).
/// - (publish_atom, string from, string data_json) — answers the new seq
///   (uint64) after broadcasting one shared message to every member.
/// - (presence_atom) — {"users":[…],"count":n}.
/// - (history_atom, bool has_since, uint64 since, uint64 limit) — history.
/// An undeclared group without members quits after `idle_timeout`.
caf::actor spawn_group_actor(caf::actor_system& system, group_config config);

/// Builds the config of group `name` from the node's settings (declared
/// groups carry their own `notify` and `history`).
group_config make_group_config(const settings& s, const std::string& name);

} // namespace herald
