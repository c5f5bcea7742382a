#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/settings.hpp"

namespace herald {

struct known_peer {
  peer_hello hello;
  std::string address; // where we reached it, if we did
  bool leaving = false;
};

struct membership_state {
  std::shared_ptr<const settings> config;
  peer_hello me;
  caf::actor directory;
  std::set<std::string> dns_seeds;
  std::set<std::string> learned_seeds;
  std::set<std::string> own_addresses;         // seeds that turned out to be this node
  std::set<std::string> in_flight;             // seeds being reached now
  std::map<std::string, known_peer> peers;     // by node name
  std::map<std::string, std::string> refusals; // seed -> last refusal logged
  bool dns_resolved = false;
  bool leaving = false;
  std::size_t largest_view = 1;
  static inline const char* name = "herald.membership";
};

using membership_self = caf::stateful_actor<membership_state>*;

} // namespace herald
