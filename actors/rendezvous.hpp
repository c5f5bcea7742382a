#pragma once

// Placement of groups on nodes: rendezvous (highest random weight) hashing.
// Every node computes the same order from the same view, and when a node
// leaves, only the groups it ranked first for move — to the node ranked
// second, which the cluster issue's replica already is.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/messages.hpp"

namespace herald {

/// A 64-bit FNV-1a of `node`, a separator and `key`, finished with a mixer so
/// that names differing in one character spread over the whole range. Stable
/// across processes and builds (std::hash is not).
inline std::uint64_t rendezvous_weight(std::string_view node, std::string_view key) {
  std::uint64_t h = 14695981039346656037ull;
  auto feed = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  feed(node);
  feed(std::string_view{"\0", 1});
  feed(key);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

/// Returns the names of `nodes` ordered by their weight for `key`, highest
/// first: [0] is the key's home, [1] its first replica.
inline std::vector<std::string> rank_nodes(const std::vector<peer_node>& nodes,
                                           std::string_view key) {
  std::vector<std::pair<std::uint64_t, std::string>> weighted;
  weighted.reserve(nodes.size());
  for (const auto& n : nodes)
    weighted.emplace_back(rendezvous_weight(n.name, key), n.name);
  std::sort(weighted.begin(), weighted.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> out;
  out.reserve(weighted.size());
  for (auto& w : weighted)
    out.push_back(std::move(w.second));
  return out;
}

/// Returns true if `view` holds a strict majority of the nodes it expects.
inline bool has_majority(const cluster_view& view) {
  return view.nodes.size() * 2 > view.expected;
}

/// Returns the node of that name in `view`, or nullptr.
inline const peer_node* find_node(const cluster_view& view, std::string_view name) {
  for (const auto& n : view.nodes)
    if (n.name == name)
      return &n;
  return nullptr;
}

} // namespace herald
