#pragma once

// The one home of everything actors say to each other: atoms, message
// structs (each with `inspect`, so it can cross nodes unchanged) and the
// type-id block that registers them.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/all.hpp>

namespace herald {

// Atoms name the operation; CAF 0.17 atoms hold at most 10 characters.
using create_atom = caf::atom_constant<caf::atom("create")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using group_atom = caf::atom_constant<caf::atom("group")>;
using user_atom = caf::atom_constant<caf::atom("user")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using event_atom = caf::atom_constant<caf::atom("event")>;
using listen_atom = caf::atom_constant<caf::atom("listen")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using touch_atom = caf::atom_constant<caf::atom("touch")>;
using exit_atom = caf::atom_constant<caf::atom("exit")>;
using presence_atom = caf::atom_constant<caf::atom("presence")>;
using history_atom = caf::atom_constant<caf::atom("history")>;
using lease_atom = caf::atom_constant<caf::atom("lease")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using attach_atom = caf::atom_constant<caf::atom("attach")>;
using end_atom = caf::atom_constant<caf::atom("end")>;
using flushed_atom = caf::atom_constant<caf::atom("flushed")>;
using sample_atom = caf::atom_constant<caf::atom("sample")>;
// Cluster: membership, group homes and their relays (cluster/, group_relay).
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using view_atom = caf::atom_constant<caf::atom("view")>;
using home_atom = caf::atom_constant<caf::atom("home")>;
using locate_atom = caf::atom_constant<caf::atom("locate")>;
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using moved_atom = caf::atom_constant<caf::atom("moved")>;
using rejoin_atom = caf::atom_constant<caf::atom("rejoin")>;
using seeds_atom = caf::atom_constant<caf::atom("seeds")>;
using probe_atom = caf::atom_constant<caf::atom("probe")>;
using replica_atom = caf::atom_constant<caf::atom("replica")>;
using replicate_atom = caf::atom_constant<caf::atom("replicate")>;
// Authentication: a session's token renewed by a ping (auth/, docs/security.md).
using token_atom = caf::atom_constant<caf::atom("token")>;

/// An event as it travels between actors: its type and the JSON text of the
/// object's remaining members, rendered once by whoever created the event
/// (`"group":"lobby",...,"time":1700000000000}`). A session prefixes
/// `{"type":…,"eid":N,` when it delivers, so a broadcast is rendered once.
///
/// `accepted_ns` (system-clock ns) is when a message or direct message was
/// accepted, for the delivery latency metric; 0 for other events.
///
/// `seq` is the group's sequence number of a `message` event (0 for others):
/// a relay uses it to put a group's messages back in order when its home moved.
struct event {
  std::string type;
  std::string tail;
  std::int64_t accepted_ns = 0;
  std::uint64_t seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("herald.event"), x.type, x.tail, x.accepted_ns, x.seq);
}

/// A group-level resume point, as given in `join`'s `since`.
struct since_point {
  bool given = false;
  std::uint64_t seq = 0;
  std::string epoch;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, since_point& x) {
  return f(caf::meta::type_name("herald.since_point"), x.given, x.seq, x.epoch);
}

/// The outcome of one command: `result_json` on success, else `error_code`
/// (one of the contract's codes) and a message for humans.
struct reply {
  std::string error_code;
  std::string error_message;
  std::string result_json;

  bool ok() const { return error_code.empty(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply& x) {
  return f(caf::meta::type_name("herald.reply"), x.error_code, x.error_message, x.result_json);
}

inline reply make_result(std::string json) {
  return reply{{}, {}, std::move(json)};
}
inline reply make_failure(std::string code, std::string message) {
  return reply{std::move(code), std::move(message), {}};
}

/// What a session hands its listener: a JSON array of rendered events and
/// the cursor to report (the last eid delivered, or the listener's own).
struct delivery {
  std::string events_json;
  std::uint64_t cursor = 0;
  std::size_t count = 0;
  bool superseded = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery& x) {
  return f(caf::meta::type_name("herald.delivery"), x.events_json, x.cursor, x.count, x.superseded);
}

/// One event as a stream carries it: its eid, type and JSON rendering.
struct stream_event {
  std::uint64_t eid = 0;
  std::string type;
  std::string json;
  std::int64_t accepted_ns = 0; ///< as in `event`
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_event& x) {
  return f(caf::meta::type_name("herald.stream_event"), x.eid, x.type, x.json, x.accepted_ns);
}

/// What a session pushes to its stream sink: the events that follow what it
/// pushed before, in eid order.
struct stream_batch {
  std::vector<stream_event> events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_batch& x) {
  return f(caf::meta::type_name("herald.stream_batch"), x.events);
}

/// Why a session stops feeding a sink: "superseded" (a newer stream or
/// listen took over), "ended" (exit or lease expiry) or "draining" (the node
/// shuts down: reconnect elsewhere).
struct stream_end {
  std::string reason;
  std::string message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_end& x) {
  return f(caf::meta::type_name("herald.stream_end"), x.reason, x.message);
}

/// A session as the directory knows it.
/// `directory` is the directory of the session's node: the groups a session
/// joins are resolved there, so that its events come from its own node.
struct session_ref {
  caf::actor handle;
  std::string id;
  std::string user;
  std::int64_t lease = 0; ///< seconds
  caf::actor directory;
  bool groups_limited = false;             ///< its token's `groups` claim applies
  std::vector<std::string> group_patterns; ///< ...with these patterns
  std::string client_address;              ///< who entered it (max-sessions-per-address)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_ref& x) {
  return f(caf::meta::type_name("herald.session_ref"), x.handle, x.id, x.user, x.lease, x.directory,
           x.groups_limited, x.group_patterns, x.client_address);
}

/// A group as the directory resolves it; `failure` is set when the group may
/// not be used (undeclared groups refused, or too many groups).
struct group_ref {
  caf::actor handle;
  std::string name;
  reply failure;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_ref& x) {
  return f(caf::meta::type_name("herald.group_ref"), x.handle, x.name, x.failure);
}

/// Counts a node reports about itself (for /readyz, logs and metrics).
struct node_stats {
  std::uint64_t sessions = 0;
  std::uint64_t groups = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_stats& x) {
  return f(caf::meta::type_name("herald.node_stats"), x.sessions, x.groups);
}

/// A member of a group as its home knows it: the session, its user, and the
/// relay that fans out to it (empty when the session is on the home's node).
struct group_member {
  caf::actor session;
  std::string user;
  caf::actor relay;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_member& x) {
  return f(caf::meta::type_name("herald.group_member"), x.session, x.user, x.relay);
}

/// A publish's Idempotency-Key as its group remembers it: the seq it got and
/// when (system-clock ms), so that a retry gets the same answer.
struct idempotency_entry {
  std::string key;
  std::uint64_t seq = 0;
  std::int64_t at_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, idempotency_entry& x) {
  return f(caf::meta::type_name("herald.idempotency_entry"), x.key, x.seq, x.at_ms);
}

/// Everything a group's home holds, handed to the node that becomes its home.
struct group_snapshot {
  std::string name;
  std::string epoch;
  std::uint64_t seq = 0;
  std::vector<event> history; ///< oldest first; the last one has `seq`
  std::vector<group_member> members;
  std::vector<idempotency_entry> keys; ///< oldest first
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_snapshot& x) {
  return f(caf::meta::type_name("herald.group_snapshot"), x.name, x.epoch, x.seq, x.history,
           x.members, x.keys);
}

/// A node of the cluster as the others know it: its name (the one that leads
/// its session ids) and its directory.
struct peer_node {
  std::string name;
  caf::actor directory;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_node& x) {
  return f(caf::meta::type_name("herald.peer_node"), x.name, x.directory);
}

/// The nodes a node sees, itself included, sorted by name; `expected` is the
/// cluster size a majority is counted against (the largest view seen, or
/// `--cluster-size`).
struct cluster_view {
  std::vector<peer_node> nodes;
  std::size_t expected = 1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(caf::meta::type_name("herald.cluster_view"), x.nodes, x.expected);
}

/// What a node says when it joins another: who it is, which protocol it
/// speaks, and a digest of the settings every node must share.
struct peer_hello {
  std::uint32_t protocol = 0;
  std::string node;
  std::string incarnation;
  std::string config_digest;
  std::string advertise; ///< its --cluster-listen as others can reach it, or empty
  caf::actor membership;
  caf::actor directory;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_hello& x) {
  return f(caf::meta::type_name("herald.peer_hello"), x.protocol, x.node, x.incarnation,
           x.config_digest, x.advertise, x.membership, x.directory);
}

/// The answer to a hello: `refusal` empty when accepted, and the addresses of
/// the other nodes the answering node knows (so that the mesh closes).
struct peer_welcome {
  std::string refusal;
  peer_hello self;
  std::vector<std::string> known;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_welcome& x) {
  return f(caf::meta::type_name("herald.peer_welcome"), x.refusal, x.self, x.known);
}

} // namespace herald

CAF_BEGIN_TYPE_ID_BLOCK(herald, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(herald, (herald::event))
  CAF_ADD_TYPE_ID(herald, (herald::since_point))
  CAF_ADD_TYPE_ID(herald, (herald::reply))
  CAF_ADD_TYPE_ID(herald, (herald::delivery))
  CAF_ADD_TYPE_ID(herald, (herald::session_ref))
  CAF_ADD_TYPE_ID(herald, (herald::group_ref))
  CAF_ADD_TYPE_ID(herald, (herald::node_stats))
  CAF_ADD_TYPE_ID(herald, (herald::stream_event))
  CAF_ADD_TYPE_ID(herald, (herald::stream_batch))
  CAF_ADD_TYPE_ID(herald, (herald::stream_end))
  CAF_ADD_TYPE_ID(herald, (std::vector<std::string>))
  CAF_ADD_TYPE_ID(herald, (herald::group_member))
  CAF_ADD_TYPE_ID(herald, (herald::group_snapshot))
  CAF_ADD_TYPE_ID(herald, (herald::idempotency_entry))
  CAF_ADD_TYPE_ID(herald, (std::vector<herald::idempotency_entry>))
  CAF_ADD_TYPE_ID(herald, (herald::peer_node))
  CAF_ADD_TYPE_ID(herald, (herald::cluster_view))
  CAF_ADD_TYPE_ID(herald, (herald::peer_hello))
  CAF_ADD_TYPE_ID(herald, (herald::peer_welcome))
  CAF_ADD_TYPE_ID(herald, (std::vector<herald::event>))
  CAF_ADD_TYPE_ID(herald, (std::vector<herald::group_member>))
  CAF_ADD_TYPE_ID(herald, (std::vector<herald::peer_node>))
CAF_END_TYPE_ID_BLOCK(herald)
