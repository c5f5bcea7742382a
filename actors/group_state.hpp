#pragma once

// The state of a group actor, shared by its two roles (group_actor.hpp):
// group_home.cpp behaves as the home, group_relay.cpp as a relay.

#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/group_actor.hpp"
#include "actors/history_ring.hpp"
#include "actors/messages.hpp"

namespace herald {

using member_map = std::unordered_map<caf::actor, std::string>; // session -> user

struct group_state {
  group_config config;
  member_map local; // members on this node, in either role
  std::uint64_t idle_generation = 0;
  cluster_view view; // the nodes as the directory last told

  // The home's.
  bool is_home = true;
  std::string epoch;
  std::uint64_t seq = 0;
  history_ring history{0};
  std::unordered_map<caf::actor, member_map> remote; // relay -> its members
  std::map<std::string, std::size_t> sessions_of_user;
  bool handing_over = false;
  bool deposed = false; // a replica refused a message: another home took over
  std::vector<std::pair<std::string, caf::actor>> replicas; // node, its group actor
  struct pending_publish {
    caf::message msg;
    caf::response_promise promise;
    std::size_t acks_missing = 0;
    std::size_t copies_missing = 0; // wanted replicas not yet established: their snapshot stores it
    bool refused = false;           // a replica is no longer this home's: never delivered
  };
  std::map<std::uint64_t, pending_publish> unreplicated; // by seq, until every replica has it
  std::set<std::string> replicas_asked;                  // nodes asked for a copy, no answer yet
  std::deque<idempotency_entry> keys;                    // oldest first
  std::unordered_map<std::string, std::uint64_t> seq_of_key;

  // The relay's.
  caf::actor upstream;
  std::uint64_t delivered_seq = 0;             // last message seq handed to the members
  bool synced = false;                         // delivered_seq is known
  std::map<std::uint64_t, caf::message> early; // messages that arrived ahead of a gap
  bool rehoming = false;
  // A member that joined while this relay was behind its home: the home's
  // answer had seq S, and messages up to S reached it by the home's replay
  // (or precede its join), so the relay must not hand them to it again.
  std::unordered_map<caf::actor, std::uint64_t> join_floor;

  // A replica's (a relay that holds a copy of its home's state).
  caf::actor replica_of; // the home that installed the copy; empty: no copy
  group_snapshot copy;   // epoch, seq, members; history as events, oldest first

  static inline const char* name = "herald.group";

  group_state() = default;
  group_state(const group_state&) = delete;
  group_state& operator=(const group_state&) = delete;
  ~group_state();
};

using group_self = caf::stateful_actor<group_state>*;

/// The home's behaviour; `self` must be set up as a home.
caf::behavior home_behavior(group_self self);

/// The relay's behaviour; `self->state.upstream` must be set.
caf::behavior relay_behavior(group_self self);

/// Takes over `snapshot` as the home: seq, epoch, history and members (those
/// whose relay is `self` are its local members already). Does not change the
/// behaviour; `become(home_behavior(self))` does.
void take_over(group_self self, group_snapshot snapshot);

/// Turns a home that handed over into a relay of `home`.
void become_relay(group_self self, caf::actor home);

/// The relay's reactions to its home's loss and to a local member's end.
void relay_lost_home(group_self self);
void relay_remove_local(group_self self, const caf::actor& session, const std::string& reason);

/// Sends `msg` once to each local member and once to each relay.
void broadcast_message(group_self self, const caf::message& msg);

/// Forgets Idempotency-Keys older than the window or beyond the count.
void prune_keys(group_state& st, std::int64_t now);

/// The home's whole state, as handed to a new home or a replica.
group_snapshot take_snapshot(group_self self);

/// Handlers both roles share (local presence bookkeeping, idle timer).
void arm_idle_timer(group_self self);
bool has_members(const group_state& st);

} // namespace herald
