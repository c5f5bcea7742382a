#include "actors/answer_timeout.hpp"
#include "actors/event.hpp"
#include "actors/group_replicas.hpp"
#include "actors/group_state.hpp"
#include "actors/log.hpp"
#include "actors/names.hpp"
#include "actors/rendezvous.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

group_state::~group_state() {
  // Members of a group that ends (node shutdown) stop counting.
  metrics().group_members->Decrement(static_cast<double>(local.size()));
}

group_config make_group_config(const settings& s, const std::string& name) {
  group_config config;
  config.name = name;
  config.notify_max = s.notify_presence_max;
  config.idle_timeout = s.group_idle_timeout;
  config.replicas = s.group_replicas;
  config.peer_timeout = s.peer_timeout;
  config.idempotency_window = s.idempotency_window;
  config.idempotency_keys = s.idempotency_keys;
  if (const auto* declared = s.find_declared(name)) {
    config.declared = true;
    config.notify = declared->notify;
    config.history = declared->history;
  } else {
    config.notify = s.notify_presence;
    config.history = s.history;
  }
  return config;
}

bool has_members(const group_state& st) {
  return !st.local.empty() || !st.remote.empty();
}

void arm_idle_timer(group_self self) {
  auto& st = self->state;
  if (st.config.declared || has_members(st))
    return;
  self->delayed_send(self, st.config.idle_timeout, idle_atom::value, ++st.idle_generation);
}

// One copy per local member and one per relay: never one per remote member.
void broadcast_message(group_self self, const caf::message& msg) {
  auto& st = self->state;
  for (const auto& member : st.local)
    self->send(member.first, msg);
  for (const auto& relay : st.remote)
    self->send(relay.first, msg);
}

namespace {

void broadcast(group_self self, const caf::message& msg) {
  broadcast_message(self, msg);
}

std::size_t member_count(const group_state& st) {
  auto n = st.local.size();
  for (const auto& relay : st.remote)
    n += relay.second.size();
  return n;
}

bool announces(group_self self) {
  return self->state.config.notify && member_count(self->state) <= self->state.config.notify_max;
}

std::string join_result(group_self self, const since_point& since, bool recovered) {
  auto& st = self->state;
  std::string out = "{\"group\":" + json_quote(st.config.name)
                    + ",\"seq\":" + std::to_string(st.seq) + ",\"epoch\":" + json_quote(st.epoch);
  if (since.given)
    out += recovered ? ",\"recovered\":true" : ",\"recovered\":false";
  out += '}';
  return out;
}

// Counts one more session of `user`; announces the user when it is their first.
void count_in(group_self self, const std::string& user, bool announce) {
  auto& st = self->state;
  if (st.sessions_of_user[user]++ == 0 && announce && announces(self))
    broadcast(self, caf::make_message(event_atom::value,
                                      make_join_event(st.config.name, user, now_ms())));
}

void count_out(group_self self, const std::string& user, const std::string& reason) {
  auto& st = self->state;
  auto count = st.sessions_of_user.find(user);
  if (count != st.sessions_of_user.end() && --count->second == 0) {
    st.sessions_of_user.erase(count);
    if (announces(self))
      broadcast(self, caf::make_message(event_atom::value,
                                        make_leave_event(st.config.name, user, reason, now_ms())));
  }
}

// Replays what follows `since` to `session` when the history covers it.
bool recover(group_self self, const caf::actor& session, const since_point& since) {
  auto& st = self->state;
  if (!since.given || since.epoch != st.epoch || !st.history.covers_after(since.seq, st.seq))
    return false;
  st.history.for_each_after(since.seq, st.history.size(),
                            [&](const caf::message& msg) { self->send(session, msg); });
  return true;
}

void remove_local(group_self self, const caf::actor& session, const std::string& reason) {
  auto& st = self->state;
  auto i = st.local.find(session);
  if (i == st.local.end())
    return;
  auto user = std::move(i->second);
  st.local.erase(i);
  metrics().group_members->Decrement();
  self->demonitor(session);
  tell_replicas(self, false, session, user, caf::actor{self});
  count_out(self, user, reason);
  arm_idle_timer(self);
}

void remove_remote(group_self self, const caf::actor& relay, const caf::actor& session,
                   const std::string& reason) {
  auto& st = self->state;
  auto r = st.remote.find(relay);
  if (r == st.remote.end())
    return;
  auto i = r->second.find(session);
  if (i == r->second.end())
    return;
  auto user = std::move(i->second);
  r->second.erase(i);
  tell_replicas(self, false, session, user, relay);
  if (r->second.empty()) {
    self->demonitor(relay);
    st.remote.erase(r);
  }
  count_out(self, user, reason);
  arm_idle_timer(self);
}

// A relay's node is gone: its members leave as expired, so presence heals.
void drop_relay(group_self self, const caf::actor& relay) {
  auto& st = self->state;
  auto r = st.remote.find(relay);
  if (r == st.remote.end())
    return;
  auto members = std::move(r->second);
  st.remote.erase(r);
  for (const auto& [session, user] : members) {
    tell_replicas(self, false, session, user, relay);
    count_out(self, user, "expired");
  }
  arm_idle_timer(self);
}

void add_remote(group_self self, const caf::actor& relay, const caf::actor& session,
                const std::string& user, bool announce) {
  auto& st = self->state;
  auto& members = st.remote[relay];
  if (members.empty())
    self->monitor(relay);
  if (members.emplace(session, user).second) {
    tell_replicas(self, true, session, user, relay);
    count_in(self, user, announce);
  }
}

} // namespace

group_snapshot take_snapshot(group_self self) {
  auto& st = self->state;
  group_snapshot snap;
  snap.name = st.config.name;
  snap.epoch = st.epoch;
  snap.seq = st.seq;
  st.history.for_each_newest(st.history.size(), [&](const caf::message& msg) {
    snap.history.push_back(msg.get_as<event>(1));
  });
  for (const auto& [session, user] : st.local)
    snap.members.push_back(group_member{session, user, caf::actor{self}});
  for (const auto& [relay, members] : st.remote)
    for (const auto& [session, user] : members)
      snap.members.push_back(group_member{session, user, relay});
  snap.keys.assign(st.keys.begin(), st.keys.end());
  return snap;
}

namespace {

// This node is no longer ranked first for the group: the new home takes the
// state, and this actor stays as the relay of its local members. Everything
// else waits in the mailbox meanwhile (await), so nothing is sequenced twice.
void hand_over(group_self self, const peer_node& to) {
  auto& st = self->state;
  // What waits for replicas goes out first: after the handover this actor
  // reaches only its own node's members.
  flush_unreplicated(self);
  st.handing_over = true;
  log::debug("group handed over", {{"group", st.config.name}, {"to", to.name}});
  self->request(to.directory, std::chrono::seconds{10}, adopt_atom::value, take_snapshot(self))
      .await(
          [self](const caf::actor& home) {
            self->state.handing_over = false;
            if (home && home != caf::actor{self})
              become_relay(self, home);
          },
          [self](const caf::error& err) {
            self->state.handing_over = false;
            log::warn("group handover failed; staying its home",
                      {{"group", self->state.config.name}, {"error", to_string(err)}});
          });
}

void on_view(group_self self, cluster_view view) {
  auto& st = self->state;
  st.view = std::move(view);
  if (!st.is_home || st.handing_over || st.view.nodes.empty())
    return;
  auto ranked = rank_nodes(st.view.nodes, st.config.name);
  if (ranked.front() == st.config.node) {
    ensure_replicas(self);
    return;
  }
  if (const auto* to = find_node(st.view, ranked.front()))
    hand_over(self, *to);
}

} // namespace

void take_over(group_self self, group_snapshot snap) {
  auto& st = self->state;
  st.is_home = true;
  st.epoch = std::move(snap.epoch);
  st.seq = snap.seq;
  st.history = history_ring{st.config.history};
  auto first = snap.seq + 1 - snap.history.size();
  for (std::size_t i = 0; i < snap.history.size(); ++i)
    st.history.push(first + i, caf::make_message(event_atom::value, std::move(snap.history[i])));
  st.delivered_seq = snap.seq; // callers hand this node's members what they missed first
  st.keys.assign(snap.keys.begin(), snap.keys.end());
  st.seq_of_key.clear();
  for (const auto& k : st.keys)
    st.seq_of_key[k.key] = k.seq;
  prune_keys(st, now_ms());
  if (st.upstream)
    self->demonitor(st.upstream);
  st.upstream = nullptr;
  st.early.clear();
  st.sessions_of_user.clear();
  for (const auto& [session, user] : st.local)
    ++st.sessions_of_user[user];
  for (auto& m : snap.members)
    if (m.relay != caf::actor{self} && m.relay)
      add_remote(self, m.relay, m.session, m.user, false);
}

void prune_keys(group_state& st, std::int64_t now) {
  auto oldest_kept = now - st.config.idempotency_window.count();
  while (!st.keys.empty()
         && (st.keys.size() > st.config.idempotency_keys || st.keys.front().at_ms < oldest_kept)) {
    auto i = st.seq_of_key.find(st.keys.front().key);
    if (i != st.seq_of_key.end() && i->second == st.keys.front().seq)
      st.seq_of_key.erase(i);
    st.keys.pop_front();
  }
}

namespace {

caf::result<reply> publish(group_self self, const std::string& from, const std::string& data_json,
                           const std::string& key) {
  auto& st = self->state;
  auto now = now_ms();
  if (!key.empty()) {
    prune_keys(st, now);
    // A retry (the answer was lost, or the home changed meanwhile): the same
    // seq, and nothing published twice.
    if (auto i = st.seq_of_key.find(key); i != st.seq_of_key.end())
      return make_result(std::to_string(i->second));
  }
  if (!st.view.nodes.empty() && !has_majority(st.view))
    return make_failure("unavailable", "this node cannot reach a majority of the cluster; retry");
  if (st.deposed)
    return make_failure("unavailable", "the group's home moved to another node; retry");
  auto seq = ++st.seq;
  // One message, shared by every member's mailbox and the history ring.
  auto msg = caf::make_message(
      event_atom::value, make_message_event(st.config.name, seq, st.epoch, from, data_json, now));
  st.history.push(seq, msg);
  if (!key.empty()) {
    st.keys.push_back(idempotency_entry{key, seq, now});
    st.seq_of_key[key] = seq;
  }
  metrics().group_messages_published->Increment();
  return publish_replicated(self, seq, std::move(msg), key);
}

} // namespace

caf::behavior home_behavior(group_self self) {
  return {
      [self](join_atom, const caf::actor& session, const std::string& user,
             const since_point& since) -> reply {
        auto& st = self->state;
        bool recovered = recover(self, session, since);
        if (st.local.emplace(session, user).second) {
          metrics().group_members->Increment();
          self->monitor(session);
          tell_replicas(self, true, session, user, caf::actor{self});
          count_in(self, user, true);
        }
        return make_result(join_result(self, since, recovered));
      },
      [self](join_atom, const caf::actor& session, const std::string& user,
             const since_point& since, const caf::actor& relay) {
        auto& st = self->state;
        bool recovered = recover(self, session, since);
        // Answered before the join is announced: the relay adds its member when
        // the answer comes, and the announcement, which follows it on the same
        // connection, then reaches the joiner too.
        auto promise = self->make_response_promise();
        promise.deliver(make_result(join_result(self, since, recovered)), st.seq, st.epoch);
        add_remote(self, relay, session, user, true);
        return caf::delegated<reply, std::uint64_t, std::string>{};
      },
      // A relay whose home was lost registers its members here and gets the
      // messages after the last one it delivered, when this epoch is its.
      [self](rejoin_atom, const std::vector<group_member>& members, std::uint64_t after,
             const std::string& epoch) {
        auto& st = self->state;
        auto relay = caf::actor_cast<caf::actor>(self->current_sender());
        for (const auto& m : members)
          add_remote(self, relay, m.session, m.user, false);
        std::vector<event> missed;
        if (epoch != st.epoch)
          after = 0; // a new epoch: everything it has is new to the relay
        if (st.history.covers_after(after, st.seq))
          st.history.for_each_after(after, st.history.size(), [&](const caf::message& msg) {
            missed.push_back(msg.get_as<event>(1));
          });
        return caf::make_message(st.seq, st.epoch, std::move(missed));
      },
      // Sent without a request: a reply here would travel back as a stray message.
      [self](leave_atom, const caf::actor& session, const std::string& reason) {
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (self->state.remote.count(sender) != 0)
          remove_remote(self, sender, session, reason);
        else
          remove_local(self, session, reason);
      },
      [self](publish_atom, const std::string& from, const std::string& data_json) {
        return publish(self, from, data_json, {});
      },
      [self](publish_atom, const std::string& from, const std::string& data_json,
             const std::string& key) { return publish(self, from, data_json, key); },
      [self](presence_atom) -> reply {
        auto& st = self->state;
        std::string out = "{\"users\":[";
        bool first = true;
        for (const auto& entry : st.sessions_of_user) {
          if (!first)
            out += ',';
          first = false;
          out += json_quote(entry.first);
        }
        out += "],\"count\":" + std::to_string(st.sessions_of_user.size()) + "}";
        return make_result(std::move(out));
      },
      [self](history_atom, bool has_since, std::uint64_t since, std::uint64_t limit) -> reply {
        auto& st = self->state;
        std::string out = "{\"epoch\":" + json_quote(st.epoch) + ",\"messages\":[";
        bool first = true;
        auto append = [&](const caf::message& msg) {
          if (!first)
            out += ',';
          first = false;
          out += render_without_eid(msg.get_as<event>(1));
        };
        auto n = limit == 0 ? st.history.size() : static_cast<std::size_t>(limit);
        if (has_since)
          st.history.for_each_after(since, n, append);
        else
          st.history.for_each_newest(n, append);
        return make_result(out + "]}");
      },
      [self](home_atom) { return caf::actor{self}; },
      [self](view_atom, cluster_view view) { on_view(self, std::move(view)); },
      [self](replica_atom) { ensure_replicas(self); }, // a retry (group_replicas.cpp)
      // A home is no copy: refused, so that an old home that was taken for lost
      // (frozen) stops sequencing instead of forking the order.
      [](replicate_atom, const event&, const std::string&) { return false; },
      // Two homes met (a node taken for lost came back, or views disagreed):
      // the other one hands its state here. It was sequencing while this one
      // was cut off, so its state wins unless it is behind in the same epoch.
      [self](adopt_atom, group_snapshot snap) {
        auto& st = self->state;
        bool theirs = snap.epoch != st.epoch || snap.seq >= st.seq;
        log::warn("two homes of a group met; keeping the newer state",
                  {{"group", st.config.name},
                   {"kept", theirs ? "theirs" : "this node's"},
                   {"seq", std::to_string(theirs ? snap.seq : st.seq)}});
        if (theirs) {
          st.deposed = true; // what waits for replicas here is not delivered
          flush_unreplicated(self);
          // This node's members get what the other home sequenced meanwhile.
          std::vector<caf::message> missed;
          if (snap.epoch == st.epoch)
            for (const auto& e : snap.history)
              if (e.seq > st.delivered_seq)
                missed.push_back(caf::make_message(event_atom::value, e));
          take_over(self, std::move(snap));
          for (const auto& msg : missed)
            for (const auto& member : st.local)
              self->send(member.first, msg);
          st.delivered_seq = st.seq;
          st.deposed = false;
          ensure_replicas(self);
        }
        return caf::actor{self};
      },
      [self](sample_atom) {
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (sender)
          self->send(sender, sample_atom::value, false, std::uint64_t{0},
                     std::uint64_t{self->mailbox().size()});
      },
      [self](idle_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation == st.idle_generation && !has_members(st) && !st.config.declared)
          self->quit();
      },
  };
}

namespace {

void install_down_handler(group_self self) {
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& st = self->state;
    auto source = caf::actor_cast<caf::actor>(down.source);
    if (!source)
      return;
    if (st.is_home && st.remote.count(source) != 0) {
      drop_relay(self, source);
      return;
    }
    if (!st.is_home && source == st.upstream) {
      st.upstream = nullptr;
      relay_lost_home(self);
      return;
    }
    // A member's actor ended without leaving (crash, lost node): treat it as
    // an expiry so the others still see the user go.
    if (st.is_home)
      remove_local(self, source, "expired");
    else
      relay_remove_local(self, source, "expired");
  });
}

caf::behavior start_home(group_self self, group_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.epoch = make_epoch();
  st.history = history_ring{st.config.history};
  install_down_handler(self);
  ignore_strays(self);
  arm_idle_timer(self);
  return home_behavior(self);
}

caf::behavior start_adopted(group_self self, group_config config, group_snapshot snap) {
  auto& st = self->state;
  st.config = std::move(config);
  install_down_handler(self);
  ignore_strays(self);
  take_over(self, std::move(snap));
  arm_idle_timer(self);
  return home_behavior(self);
}

caf::behavior start_relay(group_self self, group_config config, caf::actor home) {
  auto& st = self->state;
  st.config = std::move(config);
  st.is_home = false;
  st.upstream = std::move(home);
  self->monitor(st.upstream);
  install_down_handler(self);
  ignore_strays(self);
  arm_idle_timer(self);
  return relay_behavior(self);
}

} // namespace

caf::actor spawn_group_actor(caf::actor_system& system, group_config config) {
  return system.spawn(start_home, std::move(config));
}

caf::actor spawn_group_actor(caf::actor_system& system, group_config config,
                             group_snapshot snapshot) {
  return system.spawn(start_adopted, std::move(config), std::move(snapshot));
}

caf::actor spawn_group_relay(caf::actor_system& system, group_config config, caf::actor home) {
  return system.spawn(start_relay, std::move(config), std::move(home));
}

} // namespace herald
