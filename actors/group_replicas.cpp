// A group's copies on other nodes (--group-replicas): the home's side keeps
// them current, the replica's side (a relay) holds one. The copy is what lets
// the next home continue a group's epoch and seq after its home's node is lost.

#include <algorithm>
#include <set>

#include "actors/event.hpp"
#include "actors/group_replicas.hpp"
#include "actors/group_state.hpp"
#include "actors/log.hpp"
#include "actors/rendezvous.hpp"

namespace herald {

namespace {

// The nodes that should hold copies: the ones ranked right after the home.
std::vector<std::string> wanted_replicas(const group_state& st) {
  std::vector<std::string> out;
  if (st.config.replicas < 2 || st.view.nodes.size() < 2)
    return out;
  auto ranked = rank_nodes(st.view.nodes, st.config.name);
  for (const auto& name : ranked) {
    if (out.size() + 1 >= st.config.replicas)
      break;
    if (name != st.config.node)
      out.push_back(name);
  }
  return out;
}

bool wanted(const group_state& st, const std::string& node) {
  auto names = wanted_replicas(st);
  return std::find(names.begin(), names.end(), node) != names.end();
}

// Delivers and answers every publish at the front whose copies are all stored,
// so that members see seq order whatever order the replicas answer in.
void release_ready(group_self self) {
  auto& st = self->state;
  while (!st.unreplicated.empty() && st.unreplicated.begin()->second.acks_missing == 0
         && st.unreplicated.begin()->second.copies_missing == 0) {
    auto node = st.unreplicated.extract(st.unreplicated.begin());
    if (node.mapped().refused || st.deposed) {
      node.mapped().promise.deliver(make_failure(
          "unavailable", "the group's home moved to another node; retry (with the same "
                         "Idempotency-Key)"));
      continue;
    }
    broadcast_message(self, node.mapped().msg);
    st.delivered_seq = node.key();
    node.mapped().promise.deliver(make_result(std::to_string(node.key())));
  }
}

void acked(group_self self, std::uint64_t seq, bool stored) {
  auto& st = self->state;
  auto i = st.unreplicated.find(seq);
  if (i != st.unreplicated.end() && i->second.acks_missing > 0)
    --i->second.acks_missing;
  if (!stored) {
    // The replica continues the group itself (this node was taken for lost, e.g.
    // frozen): sequencing here would fork the group's order.
    if (!st.deposed)
      log::warn("group replica refused a message: another node is its home now",
                {{"group", st.config.name}, {"seq", std::to_string(seq)}});
    st.deposed = true;
  }
  release_ready(self);
}

// A group without its copies loses its epoch with its home: keep asking
// while the view wants a replica that is not there (a lost node leaves the
// view, which ends this).
void retry_later(group_self self) {
  constexpr auto retry_interval = std::chrono::milliseconds{200};
  self->delayed_send(self, retry_interval, replica_atom::value);
}

} // namespace

void ensure_replicas(group_self self) {
  auto& st = self->state;
  if (!st.is_home || st.handing_over)
    return;
  auto names = wanted_replicas(st);
  // Copies on nodes no longer wanted are dropped (a stale copy must never
  // become a home).
  auto keep = [&](const auto& r) {
    return std::find(names.begin(), names.end(), r.first) != names.end();
  };
  for (const auto& r : st.replicas)
    if (!keep(r))
      self->send(r.second, replica_atom::value, caf::actor{self});
  st.replicas.erase(std::remove_if(st.replicas.begin(), st.replicas.end(),
                                   [&](const auto& r) { return !keep(r); }),
                    st.replicas.end());
  for (const auto& name : names) {
    bool have = std::any_of(st.replicas.begin(), st.replicas.end(),
                            [&](const auto& r) { return r.first == name; });
    if (have || st.replicas_asked.count(name) != 0)
      continue;
    const auto* peer = find_node(st.view, name);
    if (peer == nullptr)
      continue;
    st.replicas_asked.insert(name);
    self->request(peer->directory, st.config.peer_timeout, replica_atom::value, st.config.name,
                  caf::actor{self})
        .then(
            [self, name](const caf::actor& copy) {
              auto& st = self->state;
              st.replicas_asked.erase(name);
              if (!copy) {
                // That node still takes its actor for the home (a handover to
                // this one is under way there): ask again shortly.
                retry_later(self);
                return;
              }
              if (!st.is_home || !wanted(st, name)) {
                self->send(copy, replica_atom::value, caf::actor{self});
                return;
              }
              // Sent before any replicate to it, so it arrives first; it holds
              // every publish still waiting for a copy.
              self->send(copy, replica_atom::value, take_snapshot(self));
              st.replicas.emplace_back(name, copy);
              for (auto& entry : st.unreplicated)
                if (entry.second.copies_missing > 0)
                  --entry.second.copies_missing;
              release_ready(self);
            },
            [self, name](const caf::error& err) {
              self->state.replicas_asked.erase(name);
              log::warn(
                  "group replica not reached",
                  {{"group", self->state.config.name}, {"node", name}, {"error", to_string(err)}});
              retry_later(self);
            });
  }
  // Publishes wait for copies on the nodes the view still wants, no more.
  auto wanted_missing = names.size() > st.replicas.size() ? names.size() - st.replicas.size() : 0;
  for (auto& entry : st.unreplicated)
    entry.second.copies_missing = std::min(entry.second.copies_missing, wanted_missing);
  release_ready(self);
}

void tell_replicas(group_self self, bool joined, const caf::actor& session, const std::string& user,
                   const caf::actor& relay) {
  for (const auto& r : self->state.replicas)
    self->send(r.second, replica_atom::value, joined, session, user, relay);
}

void drop_replicas(group_self self) {
  auto& st = self->state;
  for (const auto& r : st.replicas)
    self->send(r.second, replica_atom::value, caf::actor{self});
  st.replicas.clear();
}

void flush_unreplicated(group_self self) {
  for (auto& entry : self->state.unreplicated) {
    entry.second.acks_missing = 0;
    entry.second.copies_missing = 0;
  }
  release_ready(self);
}

caf::result<reply> publish_replicated(group_self self, std::uint64_t seq, caf::message msg,
                                      const std::string& key) {
  auto& st = self->state;
  // A replica the view wants but that is not established yet (the group is
  // new, or the nodes just changed) must hold the message before it counts.
  auto wanted_count = wanted_replicas(st).size();
  auto copies_missing = wanted_count > st.replicas.size() ? wanted_count - st.replicas.size() : 0;
  if (st.replicas.empty() && copies_missing == 0 && st.unreplicated.empty()) {
    broadcast_message(self, msg);
    st.delivered_seq = seq;
    return make_result(std::to_string(seq));
  }
  auto promise = self->make_response_promise<reply>();
  auto& pending = st.unreplicated[seq];
  pending.msg = msg;
  pending.promise = promise;
  pending.acks_missing = st.replicas.size();
  pending.copies_missing = copies_missing;
  if (copies_missing > 0)
    ensure_replicas(self);
  const auto& e = msg.get_as<event>(1);
  for (const auto& r : st.replicas)
    self->request(r.second, st.config.peer_timeout, replicate_atom::value, e, key)
        .then([self, seq](bool stored) { acked(self, seq, stored); },
              // A replica lost meanwhile: the view change replaces it.
              [self, seq](const caf::error&) { acked(self, seq, true); });
  release_ready(self);
  return promise;
}

group_snapshot snapshot_from_copy(group_self self) {
  auto snap = self->state.copy;
  snap.name = self->state.config.name;
  return snap;
}

caf::message_handler replica_handlers(group_self self) {
  auto from_copy_home = [self] {
    return self->state.replica_of
           && caf::actor_cast<caf::actor>(self->current_sender()) == self->state.replica_of;
  };
  return {
      [self](replica_atom, group_snapshot snap) {
        auto& st = self->state;
        st.replica_of = caf::actor_cast<caf::actor>(self->current_sender());
        st.copy = std::move(snap);
        log::debug("group replica installed",
                   {{"group", st.config.name}, {"seq", std::to_string(st.copy.seq)}});
      },
      [self, from_copy_home](replicate_atom, const event& e, const std::string& key) {
        auto& st = self->state;
        if (!from_copy_home())
          return false; // not the home this copy is of
        if (e.seq <= st.copy.seq)
          return true;
        st.copy.seq = e.seq;
        st.copy.history.push_back(e);
        if (st.copy.history.size() > st.config.history)
          st.copy.history.erase(st.copy.history.begin());
        if (!key.empty()) {
          st.copy.keys.push_back(idempotency_entry{key, e.seq, now_ms()});
          // Bounded by count here; the window is applied when the copy is used.
          if (st.copy.keys.size() > st.config.idempotency_keys)
            st.copy.keys.erase(st.copy.keys.begin());
        }
        return true;
      },
      [self, from_copy_home](replica_atom, bool joined, const caf::actor& session,
                             const std::string& user, const caf::actor& relay) {
        if (!from_copy_home())
          return;
        auto& members = self->state.copy.members;
        auto same = [&](const group_member& m) { return m.session == session && m.relay == relay; };
        members.erase(std::remove_if(members.begin(), members.end(), same), members.end());
        if (joined)
          members.push_back(group_member{session, user, relay});
      },
      [self](replica_atom, const caf::actor& home) {
        auto& st = self->state;
        if (home != st.replica_of)
          return;
        st.replica_of = nullptr;
        st.copy = group_snapshot{};
        arm_idle_timer(self);
      },
  };
}

} // namespace herald
