#pragma once

// Blocking network work the membership actor must never do itself: name
// resolution and a first TCP connect with a deadline. Each runs in a detached
// actor of its own and answers with a message, so a dead address in DNS
// stalls neither the membership nor CAF's middleman (whose own connect has no
// timeout: design/cluster.md, pitfall 2).

#include <chrono>
#include <string>
#include <vector>

#include <caf/all.hpp>

namespace herald {

/// Splits "host:port" ("[v6]:port" too); false when it is not of that form.
bool split_host_port(const std::string& address, std::string& host, std::uint16_t& port);

/// Spawns an actor that resolves `name_port` ("NAME:PORT") to its A records
/// and sends `reply_to` (seeds_atom, vector<string> "ip:port") — empty when
/// the name does not resolve.
void resolve_seeds(caf::actor_system& system, std::string name_port, caf::actor reply_to);

/// Spawns an actor that tries one TCP connect to `address` within `timeout`
/// and sends `reply_to` (probe_atom, string address, bool reachable,
/// string why_not).
void probe_seed(caf::actor_system& system, std::string address, std::chrono::seconds timeout,
                caf::actor reply_to);

} // namespace herald
