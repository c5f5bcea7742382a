#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/settings.hpp"

namespace herald {

/// The node's member of the cluster: it finds the other nodes (`--peers`,
/// `--peers-dns` re-resolved every `--peers-dns-interval`, and the nodes each
/// peer knows), greets each with a hello that names this node, its
/// incarnation, the protocol version and the digest of the shared settings,
/// monitors every peer it accepted, and tells the directory the current
/// view. A full mesh: every node greets every node it learns of.
///
/// Messages: (seeds_atom, uint16_t port) once, from main after publishing
/// this actor on `port` — only then are seeds tried;
/// (hello_atom, peer_hello) → peer_welcome from other nodes;
/// (drain_atom) when this node drains — it tells its peers it leaves, so that
/// groups it is home of move at once. docs/cluster.md has the rules.
caf::actor spawn_membership(caf::actor_system& system, std::shared_ptr<const settings> config,
                            caf::actor directory);

} // namespace herald
