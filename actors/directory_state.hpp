#pragma once

// The directory's state, shared by its two halves: directory_actor.cpp
// (sessions and users) and directory_groups.cpp (groups and their homes).

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/settings.hpp"

namespace herald {

struct group_entry {
  caf::actor handle;
  bool is_home = true; ///< false: a relay of a home on another node
};

struct directory_state {
  std::shared_ptr<const settings> config;
  std::string node; // sanitized, leads every session id
  std::unordered_map<std::string, session_ref> sessions;
  std::unordered_map<std::string, std::set<caf::actor>> sessions_of_user;
  std::unordered_map<std::string, std::size_t> sessions_of_address; ///< max-sessions-per-address
  std::unordered_map<std::string, group_entry> groups;
  // Reverse index, so a down message finds what to forget.
  std::unordered_map<caf::actor_addr, std::pair<bool, std::string>> names_of; // is_session, key
  bool draining = false;
  caf::actor membership; // told when the node drains (cluster/membership.hpp)
  cluster_view view;     // every node this one sees (itself too, unless it drains)
  // Local requests for a group whose home is being looked up, by name.
  std::unordered_map<std::string, std::vector<caf::response_promise>> resolving;
  static inline const char* name = "herald.directory";
};

using directory_self = caf::stateful_actor<directory_state>*;

/// The handlers of group names, homes and placement (directory_groups.cpp).
caf::message_handler group_handlers(directory_self self);

/// Updates the gauges of sessions and groups.
void publish_counts(const directory_state& st);

/// Returns true if the node is part of a cluster of more than itself.
inline bool clustered(const directory_state& st) {
  return st.view.nodes.size() > 1;
}

} // namespace herald
