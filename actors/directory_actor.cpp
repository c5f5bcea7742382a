#include "actors/directory_actor.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "actors/group_actor.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/names.hpp"
#include "actors/session_actor.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace {

struct directory_state {
  std::shared_ptr<const settings> config;
  std::string node; // sanitized, leads every session id
  std::unordered_map<std::string, session_ref> sessions;
  std::unordered_map<std::string, std::set<caf::actor>> sessions_of_user;
  std::unordered_map<std::string, caf::actor> groups;
  // Reverse index, so a down message finds what to forget.
  std::unordered_map<caf::actor_addr, std::pair<bool, std::string>> names_of; // is_session, key
  bool draining = false;
  static inline const char* name = "herald.directory";
};

using self_ptr = caf::stateful_actor<directory_state>*;

std::chrono::seconds clamp_lease(const settings& s, bool given, std::int64_t requested) {
  if (!given)
    return s.lease;
  auto lease = std::clamp<std::int64_t>(requested, 1, s.max_lease.count());
  return std::chrono::seconds{lease};
}

void publish_counts(const directory_state& st) {
  metrics().sessions->Set(static_cast<double>(st.sessions.size()));
  metrics().groups->Set(static_cast<double>(st.groups.size()));
}

void forget(self_ptr self, const caf::actor_addr& source) {
  auto& st = self->state;
  auto i = st.names_of.find(source);
  if (i == st.names_of.end())
    return;
  auto [is_session, key] = i->second;
  st.names_of.erase(i);
  if (!is_session) {
    st.groups.erase(key);
    publish_counts(st);
    return;
  }
  auto s = st.sessions.find(key);
  if (s == st.sessions.end())
    return;
  auto users = st.sessions_of_user.find(s->second.user);
  if (users != st.sessions_of_user.end()) {
    users->second.erase(s->second.handle);
    if (users->second.empty())
      st.sessions_of_user.erase(users);
  }
  log::debug("session ended", {{"session", redact_session_id(key)}});
  st.sessions.erase(s);
  publish_counts(st);
}

caf::behavior directory_actor(self_ptr self, std::shared_ptr<const settings> config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.node = sanitize_node_name(st.config->node);
  self->set_down_handler([self](const caf::down_msg& down) { forget(self, down.source); });
  // Shutdown of the node: end every session and group with the same reason,
  // so that the actor system can wait for all actors and exit clean.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    for (const auto& entry : st.sessions)
      self->send_exit(entry.second.handle, msg.reason);
    for (const auto& entry : st.groups)
      self->send_exit(entry.second, msg.reason);
    st.sessions.clear();
    st.sessions_of_user.clear();
    st.groups.clear();
    st.names_of.clear();
    publish_counts(st);
    self->quit(msg.reason);
  });
  ignore_strays(self);
  return {
      [self](create_atom, const std::string& user, bool lease_given, std::int64_t lease) {
        auto& st = self->state;
        if (st.draining)
          return caf::make_message(
              session_ref{}, make_failure("unavailable", "node is draining; enter elsewhere"));
        if (st.sessions.size() >= st.config->max_sessions)
          return caf::make_message(session_ref{},
                                   make_failure("unavailable", "node is full (max-sessions)"));
        session_config sc;
        do {
          sc.id = make_session_id(st.node);
        } while (st.sessions.count(sc.id) != 0);
        sc.user = user;
        sc.lease = clamp_lease(*st.config, lease_given, lease);
        sc.queue_max = st.config->queue_max;
        sc.max_groups = st.config->max_groups_per_session;
        sc.max_stream_buffer = st.config->max_stream_buffer;
        auto handle = spawn_session_actor(self->system(), sc);
        self->monitor(handle);
        session_ref ref{handle, sc.id, user, sc.lease.count()};
        st.sessions.emplace(sc.id, ref);
        st.sessions_of_user[user].insert(handle);
        st.names_of.emplace(handle.address(), std::make_pair(true, sc.id));
        publish_counts(st);
        log::debug("session entered", {{"session", redact_session_id(sc.id)}, {"user", user}});
        return caf::make_message(std::move(ref), reply{});
      },
      [self](lookup_atom, const std::string& id) -> session_ref {
        auto& st = self->state;
        auto i = st.sessions.find(id);
        if (i == st.sessions.end())
          return {};
        self->send(i->second.handle, touch_atom::value);
        return i->second;
      },
      [self](group_atom, const std::string& name) -> group_ref {
        auto& st = self->state;
        auto i = st.groups.find(name);
        if (i != st.groups.end())
          return group_ref{i->second, name, {}};
        if (!st.config->allow_undeclared_groups && st.config->find_declared(name) == nullptr)
          return group_ref{
              {}, name, make_failure("not_found", "group \"" + name + "\" is not declared")};
        if (st.groups.size() >= st.config->max_groups)
          return group_ref{{}, name, make_failure("unavailable", "node is full (max-groups)")};
        auto handle = spawn_group_actor(self->system(), make_group_config(*st.config, name));
        self->monitor(handle);
        st.groups.emplace(name, handle);
        st.names_of.emplace(handle.address(), std::make_pair(false, name));
        publish_counts(st);
        return group_ref{handle, name, {}};
      },
      [self](user_atom, const std::string& user) -> std::vector<caf::actor> {
        auto& st = self->state;
        auto i = st.sessions_of_user.find(user);
        if (i == st.sessions_of_user.end())
          return {};
        return {i->second.begin(), i->second.end()};
      },
      [self](drain_atom) {
        auto& st = self->state;
        st.draining = true;
        for (const auto& entry : st.sessions)
          self->send(entry.second.handle, drain_atom::value);
      },
      // Who to ask for a depth sample (metrics/depth_sample.hpp), and how many
      // messages wait in the directory's own mailbox.
      [self](sample_atom) {
        auto& st = self->state;
        std::vector<caf::actor> sessions;
        sessions.reserve(st.sessions.size());
        for (const auto& entry : st.sessions)
          sessions.push_back(entry.second.handle);
        std::vector<caf::actor> groups;
        groups.reserve(st.groups.size());
        for (const auto& entry : st.groups)
          groups.push_back(entry.second);
        return caf::make_message(std::move(sessions), std::move(groups),
                                 std::uint64_t{self->mailbox().size()});
      },
      [self](stats_atom) -> node_stats {
        auto& st = self->state;
        return node_stats{st.sessions.size(), st.groups.size()};
      },
  };
}

} // namespace

caf::actor spawn_directory_actor(caf::actor_system& system,
                                 std::shared_ptr<const settings> config) {
  return system.spawn(directory_actor, std::move(config));
}

} // namespace herald
