#include "actors/command_actor.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "actors/answer_timeout.hpp"
#include "actors/event.hpp"
#include "actors/messages.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace {

// One unit of herald_longpolls_pending, held while a long-poll waits and
// given back however the wait ends: answered, timed out, or the request
// actor killed because its client left.
class waiting_longpoll {
public:
  waiting_longpoll() = default;
  waiting_longpoll(const waiting_longpoll&) = delete;
  waiting_longpoll& operator=(const waiting_longpoll&) = delete;
  ~waiting_longpoll() { stop(); }

  void start() {
    if (!held_)
      metrics().longpolls_pending->Increment();
    held_ = true;
  }

  void stop() {
    if (held_)
      metrics().longpolls_pending->Decrement();
    held_ = false;
  }

private:
  bool held_ = false;
};

// A long-poll in progress.
struct pending_listen {
  bool active = false;
  caf::actor session;
  std::uint64_t cursor = 0;
  bool timed = false; // the listen behavior (with its receive timeout) is pushed
  waiting_longpoll waiting;
};

struct command_state {
  command_context context;
  std::vector<command> commands;
  std::size_t index = 0;
  std::vector<reply> replies;
  std::vector<publish_request> publishes; // a publish actor's requests, one per command slot
  command_completion done;
  pending_listen listen;
  static inline const char* name = "herald.request";
};

using self_ptr = caf::stateful_actor<command_state>*;
using session_fn = std::function<void(const session_ref&)>;
using groups_fn = std::function<void(std::vector<group_ref>)>;

void run_next(self_ptr self);

void finish(self_ptr self, reply r) {
  self->state.replies.push_back(std::move(r));
  ++self->state.index;
  run_next(self);
}

const command& current(self_ptr self) {
  return self->state.commands[self->state.index];
}

auto fail_with(self_ptr self, std::string what) {
  return [self, what = std::move(what)](const caf::error& err) {
    if (err == caf::sec::request_receiver_down)
      finish(self, make_failure("unavailable", what + " ended meanwhile; retry"));
    else
      finish(self, make_failure("internal", what + ": " + self->system().render(err)));
  };
}

void with_session(self_ptr self, const std::string& id, session_fn fn) {
  ask(self, self->state.context.directory, lookup_atom::value, id)
      .then(
          [self, id, fn = std::move(fn)](const session_ref& ref) {
            if (!ref.handle)
              finish(self, make_failure("unknown_session", "unknown session \"" + id + "\""));
            else
              fn(ref);
          },
          [self, id](const caf::error&) {
            // Its node was lost while we asked: the client enters again.
            finish(self, make_failure("unknown_session", "unknown session \"" + id + "\""));
          });
}

// Resolves `names` one after another (each name once, in first-seen order);
// stops at the first that may not be used.
void with_groups(self_ptr self, const caf::actor& directory, std::vector<std::string> names,
                 std::vector<group_ref> found, groups_fn fn) {
  if (found.empty()) {
    // Results are keyed by name: a repeated name would never complete them.
    std::vector<std::string> unique;
    for (auto& name : names)
      if (std::find(unique.begin(), unique.end(), name) == unique.end())
        unique.push_back(std::move(name));
    names = std::move(unique);
  }
  if (found.size() == names.size()) {
    fn(std::move(found));
    return;
  }
  auto name = names[found.size()];
  ask(self, directory, group_atom::value, name)
      .then(
          [self, directory, names = std::move(names), found = std::move(found),
           fn = std::move(fn)](const group_ref& ref) mutable {
            if (!ref.failure.ok()) {
              finish(self, ref.failure);
              return;
            }
            found.push_back(ref);
            with_groups(self, directory, std::move(names), std::move(found), std::move(fn));
          },
          fail_with(self, "directory"));
}

void with_group(self_ptr self, const caf::actor& directory, const std::string& name,
                std::function<void(const group_ref&)> fn) {
  with_groups(self, directory, {name}, {},
              [fn = std::move(fn)](std::vector<group_ref> refs) { fn(refs[0]); });
}

const caf::actor& local_directory(self_ptr self) {
  return self->state.context.directory;
}

// --- enter -------------------------------------------------------------------

void join_for_enter(self_ptr self, session_ref session, std::vector<group_ref> groups,
                    nlohmann::json joined) {
  if (joined.size() == groups.size()) {
    auto out = nlohmann::json{{"session", session.id},
                              {"user", session.user},
                              {"lease", session.lease},
                              {"groups", std::move(joined)}};
    finish(self, make_result(out.dump()));
    return;
  }
  auto group = groups[joined.size()];
  ask(self, session.handle, join_atom::value, group.name, group.handle, since_point{})
      .then(
          [self, session, groups = std::move(groups), joined = std::move(joined),
           name = group.name](const reply& r) mutable {
            if (!r.ok()) {
              self->send(session.handle, exit_atom::value);
              finish(self, r);
              return;
            }
            auto result = nlohmann::json::parse(r.result_json);
            joined[name] = {{"seq", result["seq"]}, {"epoch", result["epoch"]}};
            join_for_enter(self, std::move(session), std::move(groups), std::move(joined));
          },
          fail_with(self, "session"));
}

// The first of `names` the session's token does not permit, or nullptr.
const std::string* first_refused(bool groups_limited, const std::vector<std::string>& patterns,
                                 const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (!group_permitted(groups_limited, patterns, name))
      return &name;
  return nullptr;
}

reply refused_group(const std::string& name) {
  return make_failure("forbidden", "group \"" + name + "\" is outside the token's groups claim");
}

// Runs `fn` when the session's token permits every group of `names`.
void with_permitted(self_ptr self, const session_ref& s, const std::vector<std::string>& names,
                    const std::function<void()>& fn) {
  if (const auto* name = first_refused(s.groups_limited, s.group_patterns, names)) {
    finish(self, refused_group(*name));
    return;
  }
  fn();
}

std::int64_t now_seconds() {
  return now_ms() / 1000;
}

void run_enter(self_ptr self) {
  auto& p = self->state.commands[self->state.index].params;
  token_grant grant;
  if (const auto& tokens = self->state.context.tokens) {
    auto check = tokens->verify(p.token, now_seconds());
    if (!check.error.empty()) {
      finish(self, make_failure("unauthorized", check.error));
      return;
    }
    grant = std::move(check.grant);
    if (!p.user.empty() && p.user != grant.user) {
      finish(self, make_failure("forbidden", "user: must be the token's sub"));
      return;
    }
    p.user = grant.user;
    if (const auto* name = first_refused(grant.groups_limited, grant.group_patterns, p.groups)) {
      finish(self, refused_group(*name));
      return;
    }
  }
  // Groups first, so an unusable group fails the enter before a session exists.
  with_groups(
      self, local_directory(self), p.groups, {},
      [self, grant = std::move(grant)](std::vector<group_ref> groups) {
        const auto& p = current(self).params;
        auto create = ask(self, self->state.context.directory, create_atom::value, p.user,
                          p.lease.has_value(), p.lease.value_or(0), grant.expires_ms,
                          grant.groups_limited, grant.group_patterns, p.client_address);
        create.then(
            [self, groups = std::move(groups)](const session_ref& session, const reply& r) mutable {
              if (!r.ok()) {
                finish(self, r);
                return;
              }
              join_for_enter(self, session, std::move(groups), nlohmann::json::object());
            },
            fail_with(self, "directory"));
      });
}

// --- speak / send ------------------------------------------------------------

void publish_each(self_ptr self, std::vector<group_ref> groups, std::string from, std::string data,
                  std::string key, nlohmann::json seqs) {
  if (seqs.size() == groups.size()) {
    finish(self, make_result(nlohmann::json{{"groups", std::move(seqs)}}.dump()));
    return;
  }
  auto group = groups[seqs.size()];
  auto request = key.empty() ? ask(self, group.handle, publish_atom::value, from, data)
                             : ask(self, group.handle, publish_atom::value, from, data, key);
  request.then(
      [self, groups = std::move(groups), from, data, key, seqs = std::move(seqs),
       name = group.name](const reply& r) mutable {
        if (!r.ok()) {
          finish(self, r);
          return;
        }
        seqs[name] = {{"seq", std::stoull(r.result_json)}};
        publish_each(self, std::move(groups), std::move(from), std::move(data), std::move(key),
                     std::move(seqs));
      },
      fail_with(self, "group"));
}

void send_direct(self_ptr self, std::string from, std::string to, std::string data) {
  ask(self, self->state.context.directory, user_atom::value, to)
      .then(
          [self, from, to, data](const std::vector<caf::actor>& sessions) {
            metrics().direct_messages_published->Increment();
            if (!sessions.empty()) {
              auto msg = caf::make_message(event_atom::value,
                                           make_direct_event(from, to, data, now_ms()));
              for (const auto& session : sessions)
                self->send(session, msg);
            }
            finish(self, make_result("{\"delivered\":" + std::to_string(sessions.size()) + "}"));
          },
          fail_with(self, "directory"));
}

void run_publish(self_ptr self, const publish_request& request) {
  if (!request.user.empty()) {
    send_direct(self, request.from, request.user, request.data);
    return;
  }
  with_groups(self, local_directory(self), request.groups, {},
              [self, from = request.from, data = request.data,
               key = request.idempotency_key](std::vector<group_ref> groups) {
                publish_each(self, std::move(groups), from, data, key, nlohmann::json::object());
              });
}

// --- listen ------------------------------------------------------------------

std::string listen_result(const std::string& events_json, std::uint64_t cursor, bool superseded) {
  std::string out = "{\"events\":" + events_json + ",\"cursor\":" + std::to_string(cursor);
  if (superseded)
    out += ",\"superseded\":true";
  out += '}';
  return out;
}

void end_listen(self_ptr self, reply r);

void on_delivery(self_ptr self, const delivery& d) {
  auto& listen = self->state.listen;
  // A late delivery after our timeout is ignored: its events stay queued
  // (unacknowledged) and the next listen receives them.
  if (listen.active && caf::actor_cast<caf::actor>(self->current_sender()) == listen.session)
    end_listen(self, make_result(listen_result(d.events_json, d.cursor, d.superseded)));
}

void on_listen_failure(self_ptr self, const reply& r) {
  if (self->state.listen.active)
    end_listen(self, r);
}

// While a listen waits: its answers, or the timeout's empty answer.
caf::behavior listen_behavior(self_ptr self, std::chrono::milliseconds timeout) {
  return {
      [self](deliver_atom, const delivery& d) { on_delivery(self, d); },
      [self](deliver_atom, const reply& r) { on_listen_failure(self, r); },
      caf::after(timeout) >>
          [self] {
            auto& listen = self->state.listen;
            if (listen.active)
              end_listen(self, make_result(listen_result("[]", listen.cursor, false)));
          },
  };
}

void run_listen(self_ptr self, const session_ref& session) {
  auto& st = self->state;
  const auto& p = current(self).params;
  double requested
      = p.timeout ? *p.timeout : static_cast<double>(st.context.config->listen_timeout.count());
  auto limit = static_cast<double>(st.context.config->max_listen_timeout.count());
  auto timeout = std::chrono::milliseconds{
      static_cast<std::int64_t>(std::llround(std::clamp(requested, 0.0, limit) * 1000.0))};
  auto& listen = st.listen;
  listen.active = true;
  listen.session = session.handle;
  listen.cursor = p.cursor;
  self->monitor(session.handle);
  bool wait = timeout.count() > 0;
  self->send(session.handle, listen_atom::value, p.cursor,
             static_cast<std::uint64_t>(st.context.config->listen_batch), wait);
  if (wait) {
    listen.waiting.start();
    // A receive timeout, not a delayed message to ourselves: CAF 0.17's clock keeps a delayed
    // message, and with it a strong reference to this actor, until it fires, so every answered
    // long-poll stayed in memory for its whole timeout (~1.5 KiB each: hundreds of MiB under
    // load). A receive timeout is dropped when the actor ends.
    listen.timed = true;
    self->become(caf::keep_behavior, listen_behavior(self, timeout));
  }
}

void end_listen(self_ptr self, reply r) {
  auto& listen = self->state.listen;
  listen.active = false;
  if (listen.timed)
    self->unbecome();
  listen.timed = false;
  listen.waiting.stop();
  self->demonitor(listen.session);
  listen.session = nullptr;
  finish(self, std::move(r));
}

// --- ping --------------------------------------------------------------------

reply ping_answer() {
  return make_result("{\"time\":" + std::to_string(now_ms()) + "}");
}

// A ping that carries a fresh token moves the session's end to its `exp`.
void run_ping(self_ptr self, const session_ref& s) {
  const auto& token = current(self).params.token;
  const auto& tokens = self->state.context.tokens;
  if (token.empty() || !tokens) {
    finish(self, ping_answer());
    return;
  }
  auto check = tokens->verify(token, now_seconds());
  if (!check.error.empty()) {
    finish(self, make_failure("unauthorized", check.error));
    return;
  }
  if (check.grant.user != s.user) {
    finish(self, make_failure("forbidden", "token: sub must be the session's user"));
    return;
  }
  const auto& grant = check.grant;
  ask(self, s.directory, token_atom::value, s.id, grant.expires_ms, grant.groups_limited,
      grant.group_patterns)
      .then(
          [self, id = s.id](bool found) {
            finish(self, found ? ping_answer()
                               : make_failure("unknown_session", "unknown session \"" + id + "\""));
          },
          fail_with(self, "directory"));
}

// --- dispatch ----------------------------------------------------------------

void run_next(self_ptr self) {
  auto& st = self->state;
  if (st.index == st.commands.size()) {
    if (st.done)
      st.done(std::move(st.replies));
    st.done = nullptr;
    self->quit();
    return;
  }
  if (!st.publishes.empty()) {
    run_publish(self, st.publishes[st.index]);
    return;
  }
  const auto& cmd = current(self);
  const auto& p = cmd.params;
  switch (cmd.verb) {
    case method::enter: run_enter(self); return;
    case method::exit:
      with_session(self, p.session, [self](const session_ref& s) {
        ask(self, s.handle, exit_atom::value)
            .then([self](const reply& r) { finish(self, r); }, fail_with(self, "session"));
      });
      return;
    case method::join:
      with_session(self, p.session, [self](const session_ref& s) {
        with_permitted(self, s, {current(self).params.group}, [self, s] {
          with_group(self, s.directory, current(self).params.group, [self, s](const group_ref& g) {
            ask(self, s.handle, join_atom::value, g.name, g.handle, current(self).params.since)
                .then([self](const reply& r) { finish(self, r); }, fail_with(self, "session"));
          });
        });
      });
      return;
    case method::leave:
      with_session(self, p.session, [self](const session_ref& s) {
        ask(self, s.handle, leave_atom::value, current(self).params.group)
            .then([self](const reply& r) { finish(self, r); }, fail_with(self, "session"));
      });
      return;
    case method::speak:
      with_session(self, p.session, [self](const session_ref& s) {
        with_permitted(self, s, current(self).params.groups, [self, user = s.user] {
          with_groups(self, local_directory(self), current(self).params.groups, {},
                      [self, user](std::vector<group_ref> groups) {
                        publish_each(self, std::move(groups), user, current(self).params.data, {},
                                     nlohmann::json::object());
                      });
        });
      });
      return;
    case method::send:
      with_session(self, p.session, [self](const session_ref& s) {
        const auto& p = current(self).params;
        send_direct(self, s.user, p.to, p.data);
      });
      return;
    case method::listen:
      with_session(self, p.session, [self](const session_ref& s) { run_listen(self, s); });
      return;
    case method::presence:
      with_session(self, p.session, [self](const session_ref& s) {
        with_permitted(self, s, {current(self).params.group}, [self] {
          with_group(
              self, local_directory(self), current(self).params.group, [self](const group_ref& g) {
                ask(self, g.handle, presence_atom::value)
                    .then([self](const reply& r) { finish(self, r); }, fail_with(self, "group"));
              });
        });
      });
      return;
    case method::history:
      with_session(self, p.session, [self](const session_ref& s) {
        with_permitted(self, s, {current(self).params.group}, [self] {
          with_group(
              self, local_directory(self), current(self).params.group, [self](const group_ref& g) {
                const auto& p = current(self).params;
                ask(self, g.handle, history_atom::value, p.history_since.has_value(),
                    p.history_since.value_or(0), p.limit.value_or(0))
                    .then([self](const reply& r) { finish(self, r); }, fail_with(self, "group"));
              });
        });
      });
      return;
    case method::attach:
      finish(self, make_failure("bad_request", "attach is only available over WebSocket"));
      return;
    case method::ping:
      if (p.session.empty()) {
        finish(self, make_result("{\"time\":" + std::to_string(now_ms()) + "}"));
        return;
      }
      // The lookup itself renews the lease.
      with_session(self, p.session, [self](const session_ref& s) { run_ping(self, s); });
      return;
  }
  finish(self, make_failure("not_found", "unknown method"));
}

caf::behavior command_actor(self_ptr self, command_context context, std::vector<command> commands,
                            command_completion done) {
  auto& st = self->state;
  st.context = std::move(context);
  st.commands = std::move(commands);
  st.done = std::move(done);
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& listen = self->state.listen;
    if (listen.active && down.source == listen.session.address())
      end_listen(self, make_failure("unknown_session", "session ended"));
  });
  run_next(self);
  return {
      [self](deliver_atom, const delivery& d) { on_delivery(self, d); },
      [self](deliver_atom, const reply& r) { on_listen_failure(self, r); },
  };
}

caf::behavior publish_actor(self_ptr self, command_context context,
                            std::vector<publish_request> requests, command_completion done) {
  auto& st = self->state;
  st.context = std::move(context);
  st.done = std::move(done);
  // One synthetic command slot per request, so that finish() and run_next()
  // complete each the way they complete commands.
  st.commands.resize(requests.size());
  st.publishes = std::move(requests);
  run_next(self);
  return {[](caf::unit_t) {}};
}

} // namespace

caf::actor spawn_command_actor(caf::actor_system& system, command_context context,
                               std::vector<command> commands, command_completion done) {
  return system.spawn(command_actor, std::move(context), std::move(commands), std::move(done));
}

caf::actor spawn_publish_actor(caf::actor_system& system, command_context context,
                               std::vector<publish_request> requests, command_completion done) {
  return system.spawn(publish_actor, std::move(context), std::move(requests), std::move(done));
}

} // namespace herald
