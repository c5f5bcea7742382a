#include "actors/answer_timeout.hpp"
#include "actors/group_replicas.hpp"
#include "actors/group_state.hpp"
#include "actors/log.hpp"
#include "actors/names.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace {

// How long a relay waits for a message that is missing before the ones that
// followed it. Gaps open only when the home moves (its last messages and the
// new home's first travel on different connections) and close in well under
// this; a message lost with a dead home never comes, and then the members get
// the rest rather than wait forever.
constexpr auto gap_wait = std::chrono::seconds{2};

// `seq` 0: a presence event, for every member.
void fan_out(group_self self, const caf::message& msg, std::uint64_t seq) {
  auto& st = self->state;
  for (const auto& member : st.local) {
    if (seq != 0 && !st.join_floor.empty()) {
      auto floor = st.join_floor.find(member.first);
      if (floor != st.join_floor.end() && seq <= floor->second)
        continue;
    }
    self->send(member.first, msg);
  }
  if (seq != 0)
    std::erase_if(st.join_floor,
                  [&st](const auto& entry) { return entry.second <= st.delivered_seq; });
}

std::uint64_t seq_of(const caf::message& msg) {
  return msg.match_element<event>(1) ? msg.get_as<event>(1).seq : 0;
}

void deliver_ready(group_self self) {
  auto& st = self->state;
  while (!st.early.empty() && st.early.begin()->first <= st.delivered_seq + 1) {
    auto node = st.early.extract(st.early.begin());
    if (node.key() == st.delivered_seq + 1) {
      st.delivered_seq = node.key();
      fan_out(self, node.mapped(), node.key());
    }
  }
}

// Messages go out in seq order, once each; presence events as they come.
void accept_event(group_self self, const event& e, caf::message msg) {
  auto& st = self->state;
  if (e.seq == 0 || !st.synced) {
    if (e.seq != 0) {
      st.delivered_seq = e.seq;
      st.synced = true;
    }
    fan_out(self, msg, e.seq);
    return;
  }
  if (e.seq <= st.delivered_seq)
    return; // already delivered (a home that moved sent it twice)
  if (e.seq == st.delivered_seq + 1) {
    st.delivered_seq = e.seq;
    fan_out(self, msg, e.seq);
    deliver_ready(self);
    return;
  }
  if (st.early.empty())
    self->delayed_send(self, gap_wait, timeout_atom::value, e.seq);
  st.early.emplace(e.seq, std::move(msg));
}

void skip_gap(group_self self, std::uint64_t waited_for) {
  auto& st = self->state;
  if (st.early.empty() || st.early.begin()->first > waited_for)
    return;
  log::warn("group messages missing after a change of home; delivering the rest",
            {{"group", st.config.name},
             {"missing_from", std::to_string(st.delivered_seq + 1)},
             {"resumes_at", std::to_string(st.early.begin()->first)}});
  st.delivered_seq = st.early.begin()->first - 1;
  deliver_ready(self);
  if (!st.early.empty())
    self->delayed_send(self, gap_wait, timeout_atom::value, st.early.begin()->first);
}

std::vector<group_member> local_members(group_self self) {
  std::vector<group_member> out;
  for (const auto& [session, user] : self->state.local)
    out.push_back(group_member{session, user, caf::actor{self}});
  return out;
}

// Asks the home on the requester's behalf. Not a delegate: a home whose node
// dies never answers, and the requester (a local request actor, which waits
// for local actors without a timeout) would hang. The bound covers a publish
// that waits up to --peer-timeout for its replica.
template <class... Ts>
caf::result<reply> forward(group_self self, Ts&&... xs) {
  auto promise = self->make_response_promise<reply>();
  auto bound = 2 * self->state.config.peer_timeout + std::chrono::seconds{1};
  self->request(self->state.upstream, bound, std::forward<Ts>(xs)...)
      .then([promise](const reply& r) mutable { promise.deliver(r); },
            [promise](const caf::error&) mutable {
              promise.deliver(make_failure(
                  "unavailable", "the group's home did not answer (its node may be lost); retry"));
            });
  return promise;
}

void register_with(group_self self, caf::actor home) {
  auto& st = self->state;
  if (home == caf::actor{self})
    return; // the directory made this actor the home
  st.upstream = home;
  self->monitor(home);
  if (st.local.empty()) {
    // Nothing to register; the next join learns where the new home stands.
    st.synced = false;
    st.early.clear();
    st.join_floor.clear();
    return;
  }
  ask(self, home, rejoin_atom::value, local_members(self), st.delivered_seq, st.epoch)
      .then(
          [self](std::uint64_t seq, const std::string& epoch, const std::vector<event>& missed) {
            auto& st = self->state;
            if (epoch != st.epoch) {
              // Every holder of the group was lost: the new epoch's messages
              // are all new here (missed holds those it already has).
              st.epoch = epoch;
              st.delivered_seq = missed.empty() ? seq : missed.front().seq - 1;
              st.early.clear();
              st.join_floor.clear();
            }
            st.synced = true;
            // What the members missed while the home changed, in order, once.
            for (const auto& e : missed)
              accept_event(self, e, caf::make_message(event_atom::value, e));
          },
          [self](const caf::error&) { relay_lost_home(self); });
}

} // namespace

void relay_remove_local(group_self self, const caf::actor& session, const std::string& reason) {
  auto& st = self->state;
  auto i = st.local.find(session);
  if (i == st.local.end())
    return;
  st.local.erase(i);
  st.join_floor.erase(session);
  metrics().group_members->Decrement();
  self->demonitor(session);
  if (st.upstream)
    self->send(st.upstream, leave_atom::value, session, reason);
  arm_idle_timer(self);
}

// The home's node is gone (or the home ended): find the new one and register
// this node's members with it. Until then, requests fail with `unavailable`.
void relay_lost_home(group_self self) {
  auto& st = self->state;
  if (st.rehoming || st.is_home)
    return;
  st.rehoming = true;
  self->request(st.config.directory, caf::infinite, home_atom::value, st.config.name,
                std::uint32_t{0})
      .then(
          [self](const caf::actor& home) {
            self->state.rehoming = false;
            if (!home) {
              self->delayed_send(self, std::chrono::seconds{1}, home_atom::value, false);
              return;
            }
            register_with(self, home);
          },
          [self](const caf::error&) {
            self->state.rehoming = false;
            self->delayed_send(self, std::chrono::seconds{1}, home_atom::value, false);
          });
}

void become_relay(group_self self, caf::actor home) {
  auto& st = self->state;
  // Relays of the old home learn the new one; the snapshot already lists them.
  for (const auto& relay : st.remote)
    self->send(relay.first, moved_atom::value, home);
  for (const auto& relay : st.remote)
    self->demonitor(relay.first);
  st.remote.clear();
  st.sessions_of_user.clear();
  drop_replicas(self);
  st.is_home = false;
  st.delivered_seq = st.seq;
  st.synced = true;
  st.upstream = home;
  self->monitor(home);
  self->send(st.config.directory, moved_atom::value, st.config.name, false);
  self->become(relay_behavior(self));
}

caf::behavior relay_behavior(group_self self) {
  auto unavailable = [] { return make_failure("unavailable", "the group's home moved; retry"); };
  return caf::message_handler{
      [self, unavailable](join_atom, const caf::actor& session, const std::string& user,
                          const since_point& since) -> caf::result<reply> {
        auto& st = self->state;
        if (!st.upstream)
          return unavailable();
        auto promise = self->make_response_promise<reply>();
        self->request(st.upstream, 2 * st.config.peer_timeout + std::chrono::seconds{1},
                      join_atom::value, session, user, since, caf::actor{self})
            .then(
                [self, session, user, promise](const reply& r, std::uint64_t seq,
                                               const std::string& epoch) mutable {
                  auto& st = self->state;
                  if (r.ok() && st.local.emplace(session, user).second) {
                    metrics().group_members->Increment();
                    self->monitor(session);
                  }
                  if (!st.synced || epoch != st.epoch) {
                    st.delivered_seq = seq;
                    st.epoch = epoch;
                    st.early.clear();
                    st.join_floor.clear();
                    st.synced = true;
                  } else if (r.ok() && seq > st.delivered_seq) {
                    // Behind the home (messages in flight or waiting for a gap): those
                    // up to seq are not this member's (the home replayed them to it).
                    st.join_floor[session] = seq;
                  }
                  promise.deliver(r);
                },
                [promise, unavailable](const caf::error&) mutable {
                  promise.deliver(unavailable());
                });
        return promise;
      },
      [self](leave_atom, const caf::actor& session, const std::string& reason) {
        auto& st = self->state;
        if (st.local.count(session) != 0)
          relay_remove_local(self, session, reason);
        else if (st.upstream)
          // A relay that still takes this actor for the home (it was one): the
          // home must see that relay as the sender, which delegate keeps.
          self->delegate(st.upstream, leave_atom::value, session, reason);
      },
      [self, unavailable](join_atom, const caf::actor& session, const std::string& user,
                          const since_point& since,
                          const caf::actor& relay) -> caf::result<caf::message> {
        if (!self->state.upstream)
          return caf::make_message(unavailable(), std::uint64_t{0}, std::string{});
        self->delegate(self->state.upstream, join_atom::value, session, user, since, relay);
        return caf::delegated<caf::message>{};
      },
      [self](rejoin_atom, const std::vector<group_member>& members, std::uint64_t after,
             const std::string& epoch) -> caf::result<caf::message> {
        if (!self->state.upstream)
          return caf::sec::request_receiver_down;
        self->delegate(self->state.upstream, rejoin_atom::value, members, after, epoch);
        return caf::delegated<caf::message>{};
      },
      [self](event_atom, const event& e) {
        accept_event(self, e, self->current_mailbox_element()->copy_content_to_message());
      },
      [self](timeout_atom, std::uint64_t waited_for) { skip_gap(self, waited_for); },
      [self, unavailable](publish_atom, const std::string& from,
                          const std::string& data) -> caf::result<reply> {
        if (!self->state.upstream)
          return unavailable();
        return forward(self, publish_atom::value, from, data);
      },
      [self, unavailable](publish_atom, const std::string& from, const std::string& data,
                          const std::string& key) -> caf::result<reply> {
        if (!self->state.upstream)
          return unavailable();
        return forward(self, publish_atom::value, from, data, key);
      },
      [self, unavailable](presence_atom) -> caf::result<reply> {
        if (!self->state.upstream)
          return unavailable();
        return forward(self, presence_atom::value);
      },
      [self, unavailable](history_atom, bool has_since, std::uint64_t since,
                          std::uint64_t limit) -> caf::result<reply> {
        if (!self->state.upstream)
          return unavailable();
        return forward(self, history_atom::value, has_since, since, limit);
      },
      [self](home_atom) { return self->state.upstream; },
      [self](home_atom, bool) { relay_lost_home(self); },
      [self](moved_atom, const caf::actor& home) {
        auto& st = self->state;
        if (st.upstream)
          self->demonitor(st.upstream);
        st.upstream = home;
        self->monitor(home);
      },
      // The directory makes this relay the home: a handover from the old home
      // (its snapshot), or, after the home's node was lost (a snapshot without
      // epoch), a continuation from this relay's copy — or a new epoch when
      // it holds none, every holder of the group being lost.
      [self](adopt_atom, group_snapshot snap) {
        auto& st = self->state;
        // Its own copy, unless what it is handed is the same group further on
        // (a handover from the live home, or a more advanced peer's copy).
        bool from_copy
            = st.replica_of
              && (snap.epoch.empty() || (snap.epoch == st.copy.epoch && st.copy.seq > snap.seq));
        if (from_copy)
          snap = snapshot_from_copy(self);
        else if (snap.epoch.empty())
          snap.epoch = make_epoch();
        log::info(from_copy ? "group continues from its replica" : "group home moved here",
                  {{"group", st.config.name}, {"seq", std::to_string(snap.seq)}});
        auto missed_from = st.synced && st.epoch == snap.epoch ? st.delivered_seq : snap.seq;
        std::vector<caf::message> missed;
        for (const auto& e : snap.history)
          if (e.seq > missed_from)
            missed.push_back(caf::make_message(event_atom::value, e));
        st.replica_of = nullptr;
        st.copy = group_snapshot{};
        take_over(self, std::move(snap));
        // This node's members get what the lost home had stored but not yet sent.
        for (const auto& msg : missed)
          fan_out(self, msg, seq_of(msg));
        self->send(self->state.config.directory, moved_atom::value, self->state.config.name, true);
        self->become(home_behavior(self));
        ensure_replicas(self);
        return caf::actor{self};
      },
      [self](view_atom, cluster_view view) { self->state.view = std::move(view); },
      [self](locate_atom) {
        return self->state.replica_of ? snapshot_from_copy(self) : group_snapshot{};
      },
      [self](sample_atom) {
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (sender)
          self->send(sender, sample_atom::value, false, std::uint64_t{0},
                     std::uint64_t{self->mailbox().size()});
      },
      [self](idle_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation == st.idle_generation && st.local.empty() && !st.replica_of
            && !st.config.declared)
          self->quit();
      },
  }
      .or_else(replica_handlers(self));
}

} // namespace herald
