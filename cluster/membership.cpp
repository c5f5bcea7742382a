#include "cluster/membership.hpp"

#include <caf/io/all.hpp>

#include "actors/cluster_status.hpp"
#include "actors/log.hpp"
#include "actors/names.hpp"
#include "cluster/config_digest.hpp"
#include "cluster/membership_state.hpp"
#include "cluster/seed_probe.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace {

std::set<std::string> all_seeds(const membership_state& st) {
  std::set<std::string> out{st.config->peers.begin(), st.config->peers.end()};
  out.insert(st.dns_seeds.begin(), st.dns_seeds.end());
  out.insert(st.learned_seeds.begin(), st.learned_seeds.end());
  for (const auto& own : st.own_addresses)
    out.erase(own);
  if (!st.me.advertise.empty())
    out.erase(st.me.advertise);
  return out;
}

bool connected_to(const membership_state& st, const std::string& address) {
  for (const auto& [name, peer] : st.peers)
    if (peer.address == address || peer.hello.advertise == address)
      return true;
  return false;
}

// The view the directory places groups by: this node (unless it drains) and
// every peer that does not.
void publish_view(membership_self self) {
  auto& st = self->state;
  cluster_view view;
  if (!st.leaving)
    view.nodes.push_back(peer_node{st.me.node, st.directory});
  for (const auto& [name, peer] : st.peers)
    if (!peer.leaving)
      view.nodes.push_back(peer_node{name, peer.hello.directory});
  std::sort(view.nodes.begin(), view.nodes.end(),
            [](const peer_node& a, const peer_node& b) { return a.name < b.name; });
  st.largest_view = std::max(st.largest_view, view.nodes.size());
  view.expected = st.config->cluster_size != 0 ? st.config->cluster_size : st.largest_view;
  metrics().cluster_nodes->Set(static_cast<double>(st.peers.size() + 1));
  self->send(st.directory, view_atom::value, std::move(view));
}

void count_change(const std::string& peer, const char* change) {
  metrics().cluster_peer_changes->Add({{"peer", peer}, {"change", change}}).Increment();
  metrics()
      .cluster_peer_up->Add({{"peer", peer}})
      .Set(std::string_view{change} == "joined" ? 1 : 0);
}

// Readiness: every seed was tried once (reached, refused or unreachable).
void check_settled(membership_self self) {
  auto& st = self->state;
  if (cluster().seeds_tried)
    return;
  if ((st.config->peers_dns.empty() || st.dns_resolved) && st.in_flight.empty()) {
    cluster().seeds_tried = true;
    log::info("cluster: every seed tried", {{"nodes", std::to_string(st.peers.size() + 1)}});
  }
}

std::string refusal_for(const membership_state& st, const peer_hello& h) {
  if (h.protocol != cluster_protocol_version)
    return "cluster protocol " + std::to_string(h.protocol) + ", this node speaks "
           + std::to_string(cluster_protocol_version);
  if (h.config_digest != st.me.config_digest)
    return "settings differ (api-key, cluster-secret, declared groups, undeclared-groups or "
           "group-replicas must be the same on every node)";
  if (h.node == st.me.node)
    return "node name \"" + h.node + "\" is this node's own; every --node must be unique";
  auto i = st.peers.find(h.node);
  if (i != st.peers.end() && i->second.hello.incarnation != h.incarnation)
    return "node name \"" + h.node
           + "\" belongs to a live node; a restarted node is accepted "
             "once the old one is gone";
  return {};
}

void add_peer(membership_self self, const peer_hello& h, const std::string& address) {
  auto& st = self->state;
  auto& peer = st.peers[h.node];
  bool fresh = !peer.hello.membership;
  peer.hello = h;
  if (!address.empty())
    peer.address = address;
  if (!h.advertise.empty())
    st.learned_seeds.insert(h.advertise);
  if (!fresh)
    return;
  self->monitor(h.membership);
  log::info("cluster: node joined", {{"peer", h.node}, {"incarnation", h.incarnation}});
  count_change(h.node, "joined");
  publish_view(self);
}

std::vector<std::string> known_addresses(const membership_state& st) {
  std::vector<std::string> out;
  for (const auto& [name, peer] : st.peers) {
    const auto& a = peer.hello.advertise.empty() ? peer.address : peer.hello.advertise;
    if (!a.empty())
      out.push_back(a);
  }
  return out;
}

void attempt_done(membership_self self, const std::string& address) {
  self->state.in_flight.erase(address);
  check_settled(self);
}

void try_seeds(membership_self self);

void greet(membership_self self, const std::string& address, caf::actor remote) {
  auto& st = self->state;
  self->request(remote, st.config->peer_timeout, hello_atom::value, st.me)
      .then(
          [self, address](const peer_welcome& w) {
            auto& st = self->state;
            if (w.self.incarnation == st.me.incarnation) {
              st.own_addresses.insert(address); // a seed that is this very node
            } else if (!w.refusal.empty()) {
              if (st.refusals[address] != w.refusal)
                log::error("cluster: a node refused this one",
                           {{"seed", address}, {"reason", w.refusal}});
              st.refusals[address] = w.refusal;
            } else {
              st.refusals.erase(address);
              add_peer(self, w.self, address);
              for (const auto& other : w.known)
                st.learned_seeds.insert(other);
            }
            attempt_done(self, address);
            try_seeds(self); // the nodes it told of, now rather than at the next tick
          },
          [self, address](const caf::error& err) {
            log::debug("cluster: no hello answer", {{"seed", address}, {"error", to_string(err)}});
            attempt_done(self, address);
          });
}

void on_reachable(membership_self self, const std::string& address) {
  auto& st = self->state;
  std::string host;
  std::uint16_t port = 0;
  split_host_port(address, host, port);
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, st.config->peer_connect_timeout + st.config->peer_timeout,
                caf::connect_atom::value, host, port)
      .then(
          [self, address](const caf::node_id&, caf::strong_actor_ptr& remote,
                          const std::set<std::string>&) {
            auto handle = caf::actor_cast<caf::actor>(remote);
            if (!handle) {
              log::debug("cluster: seed publishes no node", {{"seed", address}});
              attempt_done(self, address);
              return;
            }
            greet(self, address, handle);
          },
          [self, address](const caf::error& err) {
            log::debug("cluster: cannot connect", {{"seed", address}, {"error", to_string(err)}});
            attempt_done(self, address);
          });
}

void try_seeds(membership_self self) {
  auto& st = self->state;
  if (st.leaving)
    return;
  for (const auto& address : all_seeds(st)) {
    if (st.in_flight.count(address) != 0 || connected_to(st, address))
      continue;
    st.in_flight.insert(address);
    probe_seed(self->system(), address, st.config->peer_connect_timeout, caf::actor{self});
  }
  check_settled(self);
}

caf::behavior membership(membership_self self, std::shared_ptr<const settings> config,
                         caf::actor directory) {
  auto& st = self->state;
  st.config = std::move(config);
  st.directory = std::move(directory);
  st.me.protocol = cluster_protocol_version;
  st.me.node = sanitize_node_name(st.config->node);
  st.me.incarnation = make_epoch();
  st.me.config_digest = config_digest(*st.config);
  st.me.membership = caf::actor{self};
  st.me.directory = st.directory;
  cluster().seeds_tried = st.config->peers.empty() && st.config->peers_dns.empty();
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& st = self->state;
    for (auto i = st.peers.begin(); i != st.peers.end(); ++i) {
      if (i->second.hello.membership.address() != down.source)
        continue;
      auto name = i->first;
      bool left = i->second.leaving;
      st.peers.erase(i);
      log::info(left ? "cluster: node left" : "cluster: node lost", {{"peer", name}});
      count_change(name, left ? "left" : "lost");
      publish_view(self);
      return;
    }
  });
  ignore_strays(self);
  self->send(st.directory, hello_atom::value, caf::actor{self});
  // Seeds are tried once main has published this actor and says on which port.
  return {
      [self](seeds_atom, std::uint16_t bound_port) {
        auto& st = self->state;
        // Others learn this node by the bound port (with --cluster-listen HOST:0 the
        // kernel picked it); a wildcard host names no address others can reach.
        const auto& listen = st.config->cluster_listen;
        auto host = listen.substr(0, listen.rfind(':'));
        if (!host.empty() && host != "0.0.0.0" && host != "::" && host != "[::]")
          st.me.advertise = host + ":" + std::to_string(bound_port);
        self->send(self, seeds_atom::value);
      },
      [self](hello_atom, const peer_hello& h) -> peer_welcome {
        auto& st = self->state;
        if (h.incarnation == st.me.incarnation)
          return peer_welcome{{}, st.me, {}};
        if (st.leaving)
          return peer_welcome{"node \"" + st.me.node + "\" is draining", st.me, {}};
        if (auto why = refusal_for(st, h); !why.empty()) {
          log::warn("cluster: refused a node", {{"peer", h.node}, {"reason", why}});
          return peer_welcome{why, st.me, {}};
        }
        auto known = known_addresses(st);
        add_peer(self, h, {});
        return peer_welcome{{}, st.me, std::move(known)};
      },
      // A tick: resolve DNS (if asked to), then reach every seed not yet a peer.
      [self](seeds_atom) {
        auto& st = self->state;
        if (!st.config->peers_dns.empty())
          resolve_seeds(self->system(), st.config->peers_dns, caf::actor{self});
        try_seeds(self);
        self->delayed_send(self, st.config->peers_dns_interval, seeds_atom::value);
      },
      [self](seeds_atom, const std::vector<std::string>& addresses) {
        auto& st = self->state;
        st.dns_seeds = {addresses.begin(), addresses.end()};
        st.dns_resolved = true;
        try_seeds(self);
      },
      [self](probe_atom, const std::string& address, bool reachable, const std::string& why) {
        if (reachable) {
          on_reachable(self, address);
          return;
        }
        log::debug("cluster: seed unreachable", {{"seed", address}, {"reason", why}});
        attempt_done(self, address);
      },
      // This node drains: its peers stop placing groups on it at once.
      [self](drain_atom) {
        auto& st = self->state;
        st.leaving = true;
        for (const auto& [name, peer] : st.peers)
          self->send(peer.hello.membership, drain_atom::value, st.me.node);
        publish_view(self);
      },
      [self](drain_atom, const std::string& node) {
        auto& st = self->state;
        auto i = st.peers.find(node);
        if (i == st.peers.end() || i->second.leaving)
          return;
        i->second.leaving = true;
        // A planned departure: the majority is counted without it.
        if (st.config->cluster_size == 0 && st.largest_view > 1)
          --st.largest_view;
        log::info("cluster: node leaving", {{"peer", node}});
        publish_view(self);
      },
  };
}

} // namespace

caf::actor spawn_membership(caf::actor_system& system, std::shared_ptr<const settings> config,
                            caf::actor directory) {
  return system.spawn(membership, std::move(config), std::move(directory));
}

} // namespace herald
