#include "actors/directory_actor.hpp"

#include "actors/directory_state.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "actors/group_actor.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/names.hpp"
#include "actors/rendezvous.hpp"
#include "actors/session_actor.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace {

using self_ptr = directory_self;

std::chrono::seconds clamp_lease(const settings& s, bool given, std::int64_t requested) {
  if (!given)
    return s.lease;
  auto lease = std::clamp<std::int64_t>(requested, 1, s.max_lease.count());
  return std::chrono::seconds{lease};
}

void forget(self_ptr self, const caf::actor_addr& source) {
  auto& st = self->state;
  auto i = st.names_of.find(source);
  if (i == st.names_of.end())
    return;
  auto [is_session, key] = i->second;
  st.names_of.erase(i);
  if (!is_session) {
    auto g = st.groups.find(key);
    if (g != st.groups.end() && g->second.handle.address() == source)
      st.groups.erase(g);
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
  if (auto a = st.sessions_of_address.find(s->second.client_address);
      a != st.sessions_of_address.end() && --a->second == 0)
    st.sessions_of_address.erase(a);
  log::debug("session ended", {{"session", redact_session_id(key)}});
  st.sessions.erase(s);
  publish_counts(st);
}

std::vector<caf::actor> local_sessions_of(const directory_state& st, const std::string& user) {
  auto i = st.sessions_of_user.find(user);
  if (i == st.sessions_of_user.end())
    return {};
  return {i->second.begin(), i->second.end()};
}

// The sessions of `user` on every node: this node's, then each peer's, each
// peer given peer-timeout to answer (a lost node's sessions are gone anyway).
caf::result<std::vector<caf::actor>> sessions_in_cluster(self_ptr self, const std::string& user) {
  auto& st = self->state;
  auto found = local_sessions_of(st, user);
  if (!clustered(st))
    return found;
  auto promise = self->make_response_promise<std::vector<caf::actor>>();
  struct pending {
    std::vector<caf::actor> found;
    std::size_t waiting = 0;
  };
  auto acc = std::make_shared<pending>();
  acc->found = std::move(found);
  for (const auto& peer : st.view.nodes)
    if (peer.name != st.node)
      ++acc->waiting;
  if (acc->waiting == 0)
    return acc->found;
  auto done = [acc, promise]() mutable {
    if (--acc->waiting == 0)
      promise.deliver(std::move(acc->found));
  };
  for (const auto& peer : st.view.nodes) {
    if (peer.name == st.node)
      continue;
    self->request(peer.directory, st.config->peer_timeout, user_atom::value, user, true)
        .then(
            [acc, done](const std::vector<caf::actor>& theirs) mutable {
              acc->found.insert(acc->found.end(), theirs.begin(), theirs.end());
              done();
            },
            [done](const caf::error&) mutable { done(); });
  }
  return promise;
}

} // namespace

void publish_counts(const directory_state& st) {
  metrics().sessions->Set(static_cast<double>(st.sessions.size()));
  metrics().groups->Set(static_cast<double>(st.groups.size()));
}

namespace {

caf::message create_session(self_ptr self, const std::string& user, bool lease_given,
                            std::int64_t lease, std::int64_t token_expires_ms, bool groups_limited,
                            const std::vector<std::string>& group_patterns,
                            const std::string& client_address) {
  auto& st = self->state;
  if (st.draining)
    return caf::make_message(session_ref{},
                             make_failure("unavailable", "node is draining; enter elsewhere"));
  if (st.sessions.size() >= st.config->max_sessions)
    return caf::make_message(session_ref{},
                             make_failure("unavailable", "node is full (max-sessions)"));
  if (auto limit = st.config->max_sessions_per_user; limit != 0) {
    auto held = st.sessions_of_user.find(user);
    if (held != st.sessions_of_user.end() && held->second.size() >= limit)
      return caf::make_message(
          session_ref{}, make_failure("rate_limited", "user already holds " + std::to_string(limit)
                                                          + " sessions on this node "
                                                            "(max-sessions-per-user); exit one"));
  }
  if (auto limit = st.config->max_sessions_per_address; limit != 0 && !client_address.empty()) {
    auto held = st.sessions_of_address.find(client_address);
    if (held != st.sessions_of_address.end() && held->second >= limit)
      return caf::make_message(
          session_ref{},
          make_failure("rate_limited", "this address already holds " + std::to_string(limit)
                                           + " sessions on this node (max-sessions-per-address)"));
  }
  session_config sc;
  do {
    sc.id = make_session_id(st.node);
  } while (st.sessions.count(sc.id) != 0);
  sc.user = user;
  sc.lease = clamp_lease(*st.config, lease_given, lease);
  sc.queue_max = st.config->queue_max;
  sc.max_groups = st.config->max_groups_per_session;
  sc.max_stream_buffer = st.config->max_stream_buffer;
  sc.token_expires_ms = token_expires_ms;
  auto handle = spawn_session_actor(self->system(), sc);
  self->monitor(handle);
  session_ref ref{handle,           sc.id,          user,           sc.lease.count(),
                  caf::actor{self}, groups_limited, group_patterns, client_address};
  st.sessions.emplace(sc.id, ref);
  ++st.sessions_of_address[client_address];
  st.sessions_of_user[user].insert(handle);
  st.names_of.emplace(handle.address(), std::make_pair(true, sc.id));
  publish_counts(st);
  log::debug("session entered", {{"session", redact_session_id(sc.id)}, {"user", user}});
  return caf::make_message(std::move(ref), reply{});
}

caf::message_handler session_handlers(self_ptr self) {
  return {
      [self](create_atom, const std::string& user, bool lease_given, std::int64_t lease) {
        return create_session(self, user, lease_given, lease, 0, false, {}, {});
      },
      [self](create_atom, const std::string& user, bool lease_given, std::int64_t lease,
             std::int64_t token_expires_ms, bool groups_limited,
             const std::vector<std::string>& group_patterns, const std::string& client_address) {
        return create_session(self, user, lease_given, lease, token_expires_ms, groups_limited,
                              group_patterns, client_address);
      },
      [self](token_atom, const std::string& id, std::int64_t expires_ms, bool groups_limited,
             const std::vector<std::string>& group_patterns) {
        auto& st = self->state;
        auto i = st.sessions.find(id);
        if (i == st.sessions.end())
          return false;
        i->second.groups_limited = groups_limited;
        i->second.group_patterns = group_patterns;
        self->send(i->second.handle, token_atom::value, expires_ms);
        return true;
      },
      // The id names the session's node: a session of another node is looked
      // up there.
      [self](lookup_atom, const std::string& id) -> caf::result<session_ref> {
        auto& st = self->state;
        auto owner = node_of_session_id(id);
        if (!owner.empty() && owner != st.node) {
          auto peer = find_node(st.view, owner);
          if (peer == nullptr)
            return session_ref{}; // its node is gone: the client enters again
          // Not delegated: a node that dies while asked would leave the requester
          // without an answer; peer-timeout bounds the wait.
          auto promise = self->make_response_promise<session_ref>();
          self->request(peer->directory, st.config->peer_timeout, lookup_atom::value, id)
              .then([promise](const session_ref& ref) mutable { promise.deliver(ref); },
                    [promise](const caf::error&) mutable { promise.deliver(session_ref{}); });
          return promise;
        }
        auto i = st.sessions.find(id);
        if (i == st.sessions.end())
          return session_ref{};
        self->send(i->second.handle, touch_atom::value);
        return i->second;
      },
      [self](user_atom, const std::string& user) { return sessions_in_cluster(self, user); },
      [self](user_atom, const std::string& user, bool /* this node only */) {
        return local_sessions_of(self->state, user);
      },
      [self](drain_atom) {
        auto& st = self->state;
        st.draining = true;
        for (const auto& entry : st.sessions)
          self->send(entry.second.handle, drain_atom::value);
        if (st.membership)
          self->send(st.membership, drain_atom::value);
      },
      [self](hello_atom, const caf::actor& membership) { self->state.membership = membership; },
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
          groups.push_back(entry.second.handle);
        return caf::make_message(std::move(sessions), std::move(groups),
                                 std::uint64_t{self->mailbox().size()});
      },
      [self](stats_atom) -> node_stats {
        auto& st = self->state;
        return node_stats{st.sessions.size(), st.groups.size()};
      },
  };
}

caf::behavior directory_actor(self_ptr self, std::shared_ptr<const settings> config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.node = sanitize_node_name(st.config->node);
  st.view.nodes.push_back(peer_node{st.node, caf::actor{self}});
  self->set_down_handler([self](const caf::down_msg& down) { forget(self, down.source); });
  // Shutdown of the node: end every session and group with the same reason,
  // so that the actor system can wait for all actors and exit clean.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    for (const auto& entry : st.sessions)
      self->send_exit(entry.second.handle, msg.reason);
    for (const auto& entry : st.groups)
      self->send_exit(entry.second.handle, msg.reason);
    st.sessions.clear();
    st.sessions_of_user.clear();
    st.groups.clear();
    st.names_of.clear();
    st.view.nodes.clear(); // peers' directories are strong references
    st.membership = nullptr;
    publish_counts(st);
    self->quit(msg.reason);
  });
  ignore_strays(self);
  return group_handlers(self).or_else(session_handlers(self));
}

} // namespace

caf::actor spawn_directory_actor(caf::actor_system& system,
                                 std::shared_ptr<const settings> config) {
  return system.spawn(directory_actor, std::move(config));
}

} // namespace herald
