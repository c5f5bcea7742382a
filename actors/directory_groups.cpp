// The directory's half that resolves group names: to the local home, to a
// local relay of a home elsewhere, or to a new home on the node rendezvous
// hashing ranks first. Asking every peer before starting a home keeps a
// group at one home while views disagree (a node that just joined is ranked
// first for groups whose home is still elsewhere, until they are handed over).

#include <memory>
#include <set>

#include "actors/directory_state.hpp"
#include "actors/group_actor.hpp"
#include "actors/log.hpp"
#include "actors/names.hpp"
#include "actors/rendezvous.hpp"

namespace herald {

namespace {

using home_fn = std::function<void(caf::actor)>;

// Forwarded lookups stop after this many hops: views that disagree must not
// bounce a name around; the last node asked decides.
constexpr std::uint32_t max_hops = 2;

group_config config_for(directory_self self, const std::string& name) {
  auto config = make_group_config(*self->state.config, name);
  config.node = self->state.node;
  config.directory = caf::actor{self};
  return config;
}

caf::actor add_entry(directory_self self, const std::string& name, caf::actor handle,
                     bool is_home) {
  auto& st = self->state;
  self->monitor(handle);
  st.groups[name] = group_entry{handle, is_home};
  st.names_of[handle.address()] = std::make_pair(false, name);
  publish_counts(st);
  if (clustered(st))
    self->send(handle, view_atom::value, st.view);
  return handle;
}

// Asks every peer whether it holds the home of `name`; calls `fn` with the
// first one found, or with an empty handle when none does.
void locate_in_peers(directory_self self, const std::string& name, home_fn fn) {
  auto& st = self->state;
  struct pending {
    caf::actor found;
    std::size_t waiting = 0;
    home_fn fn;
  };
  auto acc = std::make_shared<pending>();
  acc->fn = std::move(fn);
  for (const auto& peer : st.view.nodes)
    if (peer.name != st.node)
      ++acc->waiting;
  if (acc->waiting == 0) {
    acc->fn(nullptr);
    return;
  }
  auto done = [acc] {
    if (--acc->waiting == 0)
      acc->fn(acc->found);
  };
  for (const auto& peer : st.view.nodes) {
    if (peer.name == st.node)
      continue;
    self->request(peer.directory, st.config->peer_timeout, locate_atom::value, name)
        .then(
            [acc, done](const caf::actor& home) {
              if (home && !acc->found)
                acc->found = home;
              done();
            },
            [done](const caf::error&) { done(); });
  }
}

using copy_fn = std::function<void(group_snapshot)>;

// Asks every peer for the copy of `name` it holds (a replica of a lost home);
// calls `fn` with the most advanced one, or with a snapshot without epoch.
void copies_in_peers(directory_self self, const std::string& name, copy_fn fn) {
  auto& st = self->state;
  struct pending {
    group_snapshot best;
    std::size_t waiting = 0;
    copy_fn fn;
  };
  auto acc = std::make_shared<pending>();
  acc->fn = std::move(fn);
  for (const auto& peer : st.view.nodes)
    if (peer.name != st.node)
      ++acc->waiting;
  if (acc->waiting == 0) {
    acc->fn(group_snapshot{});
    return;
  }
  auto done = [acc] {
    if (--acc->waiting == 0)
      acc->fn(std::move(acc->best));
  };
  for (const auto& peer : st.view.nodes) {
    if (peer.name == st.node)
      continue;
    self->request(peer.directory, st.config->peer_timeout, locate_atom::value, name, true)
        .then(
            [acc, done](const group_snapshot& copy) {
              if (!copy.epoch.empty() && (acc->best.epoch.empty() || copy.seq > acc->best.seq))
                acc->best = copy;
              done();
            },
            [done](const caf::error&) { done(); });
  }
}

// This node is ranked first (or the last one asked): the home is an existing
// one anywhere; else one here continuing from the best copy a peer holds (this
// node came back, e.g. restarted, before the replica took over); else a new
// one here — a local relay becomes it (from its own copy, or a new epoch).
void settle_home_here(directory_self self, const std::string& name, home_fn fn);

void settle_from_copy(directory_self self, const std::string& name, home_fn fn) {
  copies_in_peers(self, name, [self, name, fn = std::move(fn)](group_snapshot copy) {
    auto& st = self->state;
    auto entry = st.groups.find(name);
    if (entry != st.groups.end() && entry->second.is_home) {
      fn(entry->second.handle);
      return;
    }
    copy.name = name;
    if (entry != st.groups.end()) {
      entry->second.is_home = true;
      auto relay = entry->second.handle;
      self->request(relay, caf::infinite, adopt_atom::value, std::move(copy))
          .then([fn](const caf::actor& home) { fn(home); },
                [fn](const caf::error&) { fn(nullptr); });
      return;
    }
    if (copy.epoch.empty()) {
      fn(add_entry(self, name, spawn_group_actor(self->system(), config_for(self, name)), true));
      return;
    }
    log::info("group continues from a peer's replica",
              {{"group", name}, {"seq", std::to_string(copy.seq)}});
    fn(add_entry(self, name,
                 spawn_group_actor(self->system(), config_for(self, name), std::move(copy)), true));
  });
}

void settle_home_here(directory_self self, const std::string& name, home_fn fn) {
  locate_in_peers(self, name, [self, name, fn = std::move(fn)](caf::actor found) {
    auto& st = self->state;
    auto entry = st.groups.find(name);
    if (entry != st.groups.end() && entry->second.is_home) {
      fn(entry->second.handle);
      return;
    }
    if (found) {
      fn(found);
      return;
    }
    settle_from_copy(self, name, std::move(fn));
  });
}

// Asks the node ranked first for the group's home; a node that does not answer
// (being lost, its loss not yet in this view) is skipped for the next one in
// rank order — the first replica, which continues the group from its copy —
// and only when this node comes first does it settle the home here.
void find_home(directory_self self, const std::string& name, std::uint32_t hops, home_fn fn,
               std::set<std::string> silent = {}) {
  auto& st = self->state;
  auto entry = st.groups.find(name);
  if (entry != st.groups.end() && entry->second.is_home) {
    fn(entry->second.handle);
    return;
  }
  const peer_node* first = nullptr;
  for (const auto& ranked : rank_nodes(st.view.nodes, name))
    if (silent.count(ranked) == 0) {
      first = find_node(st.view, ranked);
      break;
    }
  if (first == nullptr || first->name == st.node || hops >= max_hops) {
    settle_home_here(self, name, std::move(fn));
    return;
  }
  auto asked = first->name;
  self->request(first->directory, st.config->peer_timeout, home_atom::value, name, hops + 1)
      .then([fn](const caf::actor& home) { fn(home); },
            [self, name, hops, fn, silent = std::move(silent), asked](const caf::error&) mutable {
              silent.insert(asked);
              find_home(self, name, hops, std::move(fn), std::move(silent));
            });
}

void answer_waiting(directory_self self, const std::string& name, const group_ref& ref) {
  auto& st = self->state;
  auto waiting = std::move(st.resolving[name]);
  st.resolving.erase(name);
  for (auto& promise : waiting)
    promise.deliver(ref);
}

} // namespace

caf::message_handler group_handlers(directory_self self) {
  return {
      [self](group_atom, const std::string& name) -> caf::result<group_ref> {
        auto& st = self->state;
        auto i = st.groups.find(name);
        if (i != st.groups.end())
          return group_ref{i->second.handle, name, {}};
        if (!st.config->allow_undeclared_groups && st.config->find_declared(name) == nullptr)
          return group_ref{
              {}, name, make_failure("not_found", "group \"" + name + "\" is not declared")};
        if (st.groups.size() >= st.config->max_groups)
          return group_ref{{}, name, make_failure("unavailable", "node is full (max-groups)")};
        if (!clustered(st))
          return group_ref{add_entry(self, name,
                                     spawn_group_actor(self->system(), config_for(self, name)),
                                     true),
                           name,
                           {}};
        auto promise = self->make_response_promise();
        auto& waiting = st.resolving[name];
        waiting.push_back(promise);
        if (waiting.size() > 1)
          return caf::delegated<group_ref>{};
        find_home(self, name, 0, [self, name](caf::actor home) {
          auto& st = self->state;
          auto entry = st.groups.find(name);
          if (entry != st.groups.end()) {
            answer_waiting(self, name, group_ref{entry->second.handle, name, {}});
            return;
          }
          if (!home) {
            answer_waiting(self, name,
                           group_ref{{},
                                     name,
                                     make_failure("unavailable",
                                                  "the group's home cannot be reached; retry")});
            return;
          }
          auto relay = add_entry(
              self, name, spawn_group_relay(self->system(), config_for(self, name), home), false);
          answer_waiting(self, name, group_ref{relay, name, {}});
        });
        return caf::delegated<group_ref>{};
      },
      [self](home_atom, const std::string& name, std::uint32_t hops) {
        auto promise = self->make_response_promise<caf::actor>();
        find_home(self, name, hops, [promise](caf::actor home) mutable { promise.deliver(home); });
        return promise;
      },
      // A home asks for this node's actor of its group, to hold a copy of its
      // state: the existing one, or a new relay of that home.
      [self](replica_atom, const std::string& name, const caf::actor& home) -> caf::actor {
        auto& st = self->state;
        auto i = st.groups.find(name);
        if (i != st.groups.end())
          return i->second.is_home ? caf::actor{} : i->second.handle;
        return add_entry(self, name,
                         spawn_group_relay(self->system(), config_for(self, name), home), false);
      },
      // The copy of `name` this node holds, if its group actor is a replica.
      [self](locate_atom, const std::string& name, bool) -> caf::result<group_snapshot> {
        auto& st = self->state;
        auto i = st.groups.find(name);
        if (i == st.groups.end() || i->second.is_home)
          return group_snapshot{};
        self->delegate(i->second.handle, locate_atom::value);
        return caf::delegated<group_snapshot>{};
      },
      [self](locate_atom, const std::string& name) -> caf::actor {
        auto& st = self->state;
        auto i = st.groups.find(name);
        return i != st.groups.end() && i->second.is_home ? i->second.handle : caf::actor{};
      },
      [self](adopt_atom, group_snapshot snap) -> caf::result<caf::actor> {
        auto& st = self->state;
        auto name = snap.name;
        auto i = st.groups.find(name);
        if (i == st.groups.end())
          return add_entry(
              self, name,
              spawn_group_actor(self->system(), config_for(self, name), std::move(snap)), true);
        if (i->second.is_home) {
          // Its home here decides which of the two states continues.
          self->delegate(i->second.handle, adopt_atom::value, std::move(snap));
          return caf::delegated<caf::actor>{};
        }
        i->second.is_home = true;
        self->delegate(i->second.handle, adopt_atom::value, std::move(snap));
        return caf::delegated<caf::actor>{};
      },
      [self](moved_atom, const std::string& name, bool is_home) {
        auto& st = self->state;
        auto i = st.groups.find(name);
        if (i != st.groups.end()
            && i->second.handle == caf::actor_cast<caf::actor>(self->current_sender()))
          i->second.is_home = is_home;
      },
      [self](view_atom, cluster_view view) {
        auto& st = self->state;
        st.view = std::move(view);
        for (const auto& entry : st.groups)
          self->send(entry.second.handle, view_atom::value, st.view);
      },
  };
}

} // namespace herald
