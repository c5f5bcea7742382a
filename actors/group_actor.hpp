#pragma once

#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/messages.hpp"
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
  std::size_t replicas = 2; ///< nodes holding seq, epoch and history (home included)
  caf::timespan peer_timeout = std::chrono::seconds{3};  ///< a replica's answer, at most
  std::chrono::milliseconds idempotency_window{600'000}; ///< keys remembered this long
  std::size_t idempotency_keys = 10000;                  ///< ...and at most this many
  std::string node;                                      ///< this node's name, for placement
  caf::actor directory; ///< this node's directory (re-resolves a lost home)
};

/// A group on one node, in one of two roles.
///
/// The **home** (one per cluster, on the node rendezvous hashing ranks first)
/// owns `seq`, `epoch`, history and the member list of every node; it sends
/// each event once to each local member and once to each relay. A **relay**
/// (on every other node with members) keeps its node's members, fans the
/// home's events out to them in `seq` order, and forwards everything else.
/// A home whose node is no longer ranked first hands its state to the new
/// home and becomes a relay; a relay whose home is lost asks the directory
/// for the new one and registers its members there.
///
/// **Replicas.** The home keeps a copy of its state on the next
/// `replicas - 1` nodes in rendezvous order (the group's actor there, a relay,
/// holds it): a message is stored there before it is delivered or its publish
/// answered, and joins and leaves are passed on. When the home's node is lost,
/// the node ranked first next is the first replica, and it continues with the
/// same epoch and seq; relays that register with it get what they missed.
///
/// Messages (each answered with a `reply` unless noted):
/// - (join_atom, actor session, string user, since_point) — adds a local
///   member; replays history after `since` first when that recovers.
/// - (leave_atom, actor session, string reason) — no reply.
/// - (publish_atom, string from, string data_json) — reply whose result is
///   the new seq as decimal text; `unavailable` without a majority.
/// - (publish_atom, string from, string data_json, string key) — the same with
///   an Idempotency-Key: a key seen within the window gets its first seq
///   again and publishes nothing.
/// - (presence_atom), (history_atom, bool, uint64, uint64) — as the contract.
/// - (view_atom, cluster_view) — no reply: the nodes changed.
/// Between nodes: (join_atom, session, user, since, actor relay) →
/// (reply, uint64 seq, string epoch); (rejoin_atom, vector<group_member>,
/// uint64 after, string epoch) → (uint64 seq, string epoch, vector<event>
/// missed after `after` when the epoch is the same);
/// to a replica: (replica_atom, group_snapshot) installs the copy,
/// (replicate_atom, event) → bool stores one message, (replica_atom, bool
/// joined, actor session, string user, actor relay) a member change,
/// (replica_atom, actor home) drops the copy `home` installed;
/// (adopt_atom, group_snapshot) → actor; (moved_atom, actor home);
/// (home_atom) → actor (the home as this actor knows it).
/// An undeclared group without members quits after `idle_timeout`.
caf::actor spawn_group_actor(caf::actor_system& system, group_config config);

/// Spawns the home of a group from the state its previous home handed over.
caf::actor spawn_group_actor(caf::actor_system& system, group_config config,
                             group_snapshot snapshot);

/// Spawns a relay of a group whose home is `home`.
caf::actor spawn_group_relay(caf::actor_system& system, group_config config, caf::actor home);

/// Builds the config of group `name` from the node's settings (declared
/// groups carry their own `notify` and `history`).
group_config make_group_config(const settings& s, const std::string& name);

} // namespace herald
