#include "actors/group_actor.hpp"

#include <map>
#include <set>
#include <unordered_map>

#include "actors/event.hpp"
#include "actors/history_ring.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/names.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

struct group_state {
  group_config config;
  std::string epoch;
  std::uint64_t seq = 0;
  history_ring history{0};
  std::unordered_map<caf::actor, std::string> members; // session -> user
  std::map<std::string, std::size_t> sessions_of_user;
  std::uint64_t idle_generation = 0;
  static inline const char* name = "herald.group";

  group_state() = default;
  group_state(const group_state&) = delete;
  group_state& operator=(const group_state&) = delete;
  // Members of a group that ends (node shutdown) stop counting.
  ~group_state() { metrics().group_members->Decrement(static_cast<double>(members.size())); }
};

group_config make_group_config(const settings& s, const std::string& name) {
  group_config config;
  config.name = name;
  config.notify_max = s.notify_presence_max;
  config.idle_timeout = s.group_idle_timeout;
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

namespace {

using self_ptr = caf::stateful_actor<group_state>*;

void broadcast(self_ptr self, const caf::message& msg) {
  for (const auto& member : self->state.members)
    self->send(member.first, msg);
}

bool announces(self_ptr self) {
  return self->state.config.notify && self->state.members.size() <= self->state.config.notify_max;
}

void arm_idle_timer(self_ptr self) {
  auto& st = self->state;
  if (st.config.declared || !st.members.empty())
    return;
  self->delayed_send(self, st.config.idle_timeout, idle_atom::value, ++st.idle_generation);
}

std::string join_result(self_ptr self, const since_point& since, bool recovered) {
  auto& st = self->state;
  std::string out = "{\"group\":" + json_quote(st.config.name)
                    + ",\"seq\":" + std::to_string(st.seq) + ",\"epoch\":" + json_quote(st.epoch);
  if (since.given)
    out += recovered ? ",\"recovered\":true" : ",\"recovered\":false";
  out += '}';
  return out;
}

// Removes `session`; announces the user's leave when it was their last session.
void remove_member(self_ptr self, const caf::actor& session, const std::string& reason) {
  auto& st = self->state;
  auto i = st.members.find(session);
  if (i == st.members.end())
    return;
  auto user = std::move(i->second);
  st.members.erase(i);
  metrics().group_members->Decrement();
  self->demonitor(session);
  auto count = st.sessions_of_user.find(user);
  if (count != st.sessions_of_user.end() && --count->second == 0) {
    st.sessions_of_user.erase(count);
    if (announces(self))
      broadcast(self, caf::make_message(event_atom::value,
                                        make_leave_event(st.config.name, user, reason, now_ms())));
  }
  arm_idle_timer(self);
}

std::string render_history(self_ptr self, bool has_since, std::uint64_t since,
                           std::uint64_t limit) {
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
  out += "]}";
  return out;
}

} // namespace

namespace {

caf::behavior group_actor(self_ptr self, group_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.epoch = make_epoch();
  st.history = history_ring{st.config.history};
  self->set_down_handler([self](const caf::down_msg& down) {
    // A member's actor ended without leaving (crash, lost node): treat it as
    // an expiry so the others still see the user go.
    auto session = caf::actor_cast<caf::actor>(down.source);
    if (session)
      remove_member(self, session, "expired");
  });
  ignore_strays(self);
  arm_idle_timer(self);
  return {
      [self](join_atom, const caf::actor& session, const std::string& user,
             const since_point& since) -> reply {
        auto& st = self->state;
        bool recovered = false;
        if (since.given) {
          recovered = since.epoch == st.epoch && st.history.covers_after(since.seq, st.seq);
          if (recovered)
            st.history.for_each_after(since.seq, st.history.size(),
                                      [&](const caf::message& msg) { self->send(session, msg); });
        }
        if (st.members.emplace(session, user).second) {
          metrics().group_members->Increment();
          self->monitor(session);
          if (st.sessions_of_user[user]++ == 0 && announces(self))
            broadcast(self, caf::make_message(event_atom::value,
                                              make_join_event(st.config.name, user, now_ms())));
        }
        return make_result(join_result(self, since, recovered));
      },
      // Sent without a request: a reply here would travel back as a stray message.
      [self](leave_atom, const caf::actor& session, const std::string& reason) {
        remove_member(self, session, reason);
      },
      [self](publish_atom, const std::string& from, const std::string& data_json) -> std::uint64_t {
        auto& st = self->state;
        auto seq = ++st.seq;
        // One message, shared by every member's mailbox and the history ring.
        auto msg
            = caf::make_message(event_atom::value, make_message_event(st.config.name, seq, st.epoch,
                                                                      from, data_json, now_ms()));
        st.history.push(seq, msg);
        broadcast(self, msg);
        metrics().group_messages_published->Increment();
        return seq;
      },
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
        return make_result(render_history(self, has_since, since, limit));
      },
      [self](sample_atom) {
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (sender)
          self->send(sender, sample_atom::value, false, std::uint64_t{0},
                     std::uint64_t{self->mailbox().size()});
      },
      [self](idle_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation == st.idle_generation && st.members.empty() && !st.config.declared)
          self->quit();
      },
  };
}

} // namespace

caf::actor spawn_group_actor(caf::actor_system& system, group_config config) {
  return system.spawn(group_actor, std::move(config));
}

} // namespace herald
