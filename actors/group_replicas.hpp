#pragma once

// The copies of a group's state on other nodes (--group-replicas): the home
// keeps them (ensure, tell, drop, publish_replicated), a relay holds one
// (replica_handlers) and continues from it when the home's node is lost.

#include <cstdint>
#include <string>

#include <caf/all.hpp>

#include "actors/group_state.hpp"

namespace herald {

/// (Re)establishes copies on the nodes ranked after the home in the current
/// view and drops those on nodes no longer ranked there.
void ensure_replicas(group_self self);

/// Passes a member change on to every copy.
void tell_replicas(group_self self, bool joined, const caf::actor& session, const std::string& user,
                   const caf::actor& relay);

/// Drops every copy (the home handed over: the new home makes its own).
void drop_replicas(group_self self);

/// Stores message `seq` (already in the home's history) on every copy, then
/// delivers it and answers the publish with its seq, in seq order.
caf::result<reply> publish_replicated(group_self self, std::uint64_t seq, caf::message msg,
                                      const std::string& key);

/// Delivers and answers every publish still waiting for its replicas: the
/// home hands over, and the new home holds them from the snapshot.
void flush_unreplicated(group_self self);

/// The copy this relay holds, as a snapshot to continue from.
group_snapshot snapshot_from_copy(group_self self);

/// The replica's handlers: install, store, member change, drop.
caf::message_handler replica_handlers(group_self self);

} // namespace herald
