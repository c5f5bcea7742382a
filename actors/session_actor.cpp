#include "actors/session_actor.hpp"

#include <map>
#include <set>

#include <boost/container/deque.hpp>

#include "actors/answer_timeout.hpp"
#include "actors/event.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/session_queue.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace {

// The actor clock, not steady_clock: under CAF's test coordinator a lease
// then passes on simulated time.
using clock_type = caf::actor_clock;

struct session_state {
  session_config config;
  session_queue queue{2};
  std::map<std::string, caf::actor> groups;
  caf::actor listener;
  std::uint64_t listener_cursor = 0;
  std::uint64_t listener_max = 0;
  caf::actor sink;                   // the open stream, if any
  std::uint64_t sink_position = 0;   // last eid pushed to it
  std::uint64_t sink_connection = 0; // stream_owner of the sink
  std::uint64_t sink_generation = 0;
  // Flow control of a paced sink: what it has not yet written, and the live
  // events (arrived since the attach) that wait behind that window.
  bool sink_paced = false;
  boost::container::deque<std::pair<std::uint64_t, std::size_t>> sink_in_flight; // eid, bytes
  std::size_t sink_in_flight_bytes = 0;
  boost::container::deque<std::pair<std::uint64_t, std::size_t>> sink_live_waiting; // eid, estimate
  std::size_t sink_live_waiting_bytes = 0;
  clock_type::time_point last_touch;
  std::set<std::string> joining; // joins in flight count towards max-groups-per-session
  bool draining = false;         // answer every listen at once: the client should move
  static inline const char* name = "herald.session";
};

using self_ptr = caf::stateful_actor<session_state>*;

reply cursor_past_end(const session_state& st, const std::string& field, std::uint64_t cursor) {
  return make_failure("bad_request", field + ": " + std::to_string(cursor)
                                         + " is past the last event ("
                                         + std::to_string(st.queue.last_eid()) + ")");
}

void touch(self_ptr self) {
  self->state.last_touch = self->clock().now();
}

// A long-poll's events count as delivered when they are handed to its
// request actor, which writes them at once.
void count_longpoll_delivery(const session_queue& queue, std::uint64_t cursor, const delivery& d) {
  if (d.count == 0)
    return;
  metrics().events_delivered[static_cast<std::size_t>(transport::longpoll)]->Increment(
      static_cast<double>(d.count));
  latency_batch latencies;
  auto now = now_ns();
  for (auto eid = cursor + 1; eid <= d.cursor; ++eid)
    if (auto accepted = queue.accepted_at(eid); accepted != 0)
      latencies.add(accepted, now);
  latencies.flush(transport::longpoll);
}

// Sends the waiting listener what follows its cursor (possibly nothing) and
// forgets it; the lease clock starts again from now.
void answer_listener(self_ptr self) {
  auto& st = self->state;
  if (!st.listener)
    return;
  delivery d;
  d.cursor = st.listener_cursor;
  d.count = st.queue.render_after(st.listener_cursor, st.listener_max, d.events_json, d.cursor);
  st.queue.mark_delivered(d.cursor);
  count_longpoll_delivery(st.queue, st.listener_cursor, d);
  self->demonitor(st.listener);
  self->send(st.listener, deliver_atom::value, std::move(d));
  st.listener = nullptr;
  touch(self);
}

void supersede_listener(self_ptr self) {
  auto& st = self->state;
  delivery d;
  d.events_json = "[]";
  d.cursor = st.listener_cursor;
  d.superseded = true;
  self->demonitor(st.listener);
  self->send(st.listener, deliver_atom::value, std::move(d));
  st.listener = nullptr;
}

constexpr std::size_t sink_window_events = 64;

// Returns true if a paced sink may take one more event now: the window holds
// at most 64 events and half of max-stream-buffer (but always one event).
bool window_open(const session_state& st) {
  if (!st.sink_paced)
    return true;
  if (st.sink_in_flight.empty())
    return true;
  return st.sink_in_flight.size() < sink_window_events
         && st.sink_in_flight_bytes < st.config.max_stream_buffer / 2;
}

void forget_live_waiting_up_to(session_state& st, std::uint64_t eid) {
  while (!st.sink_live_waiting.empty() && st.sink_live_waiting.front().first <= eid) {
    st.sink_live_waiting_bytes -= st.sink_live_waiting.front().second;
    st.sink_live_waiting.pop_front();
  }
}

// Hands the sink what follows what it already has, as far as its window
// allows, and counts it as delivered.
void push_to_sink(self_ptr self) {
  auto& st = self->state;
  constexpr std::size_t batch_max = 256;
  while (st.sink && st.queue.has_after(st.sink_position) && window_open(st)) {
    stream_batch batch;
    std::size_t room = st.sink_paced ? sink_window_events - st.sink_in_flight.size() : batch_max;
    while (batch.events.size() < room && st.queue.has_after(st.sink_position)
           && (batch.events.empty() || window_open(st))) {
      st.queue.visit_after(st.sink_position, 1,
                           [&](std::uint64_t eid, const std::string& type, std::string json) {
                             if (st.sink_paced) {
                               st.sink_in_flight.emplace_back(eid, json.size());
                               st.sink_in_flight_bytes += json.size();
                             }
                             batch.events.push_back(stream_event{eid, type, std::move(json),
                                                                 st.queue.accepted_at(eid)});
                           });
      st.sink_position = batch.events.back().eid;
    }
    st.queue.mark_delivered(st.sink_position);
    forget_live_waiting_up_to(st, st.sink_position);
    self->send(st.sink, deliver_atom::value, std::move(batch));
  }
}

void reset_flow(session_state& st) {
  st.sink_in_flight.clear();
  st.sink_in_flight_bytes = 0;
  st.sink_live_waiting.clear();
  st.sink_live_waiting_bytes = 0;
}

void end_sink(self_ptr self, std::string reason, std::string message) {
  auto& st = self->state;
  if (!st.sink)
    return;
  if (reason == "slow_consumer")
    metrics().slow_consumers->Increment();
  self->demonitor(st.sink);
  self->send(st.sink, end_atom::value, stream_end{std::move(reason), std::move(message)});
  st.sink = nullptr;
  reset_flow(st);
  touch(self);
}

void leave_all(self_ptr self, const std::string& reason) {
  for (const auto& [name, group] : self->state.groups)
    self->send(group, leave_atom::value, caf::actor{self}, reason);
  self->state.groups.clear();
}

void end_session(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  leave_all(self, reason);
  auto why = "session " + st.config.id + " ended (" + reason + ")";
  if (st.listener) {
    self->send(st.listener, deliver_atom::value, make_failure("unknown_session", why));
    st.listener = nullptr;
  }
  end_sink(self, "ended", why);
  self->quit();
}

// One timer serves the lease and the token: it fires at whichever ends first.
void arm_lease_timer(self_ptr self, clock_type::duration_type after) {
  if (auto expires = self->state.config.token_expires_ms; expires != 0) {
    auto left = std::chrono::milliseconds{std::max<std::int64_t>(expires - now_ms(), 0) + 1};
    // Compared in milliseconds: a token valid for centuries overflows the clock's nanoseconds.
    if (left < std::chrono::duration_cast<std::chrono::milliseconds>(after))
      after = left;
  }
  self->delayed_send(self, after, lease_atom::value);
}

void check_lease(self_ptr self) {
  auto& st = self->state;
  if (st.config.token_expires_ms != 0 && now_ms() >= st.config.token_expires_ms) {
    // A session does not outlive its token, not even with a stream open.
    metrics().leases_expired->Increment();
    end_session(self, "expired");
    return;
  }
  if (st.listener || st.sink) {
    // A waiting listener or an open stream keeps the session alive; the clock restarts when it
    // is answered, so checking again one lease later is enough.
    arm_lease_timer(self, st.config.lease);
    return;
  }
  auto expires = st.last_touch + st.config.lease;
  auto now = self->clock().now();
  if (now >= expires) {
    metrics().leases_expired->Increment();
    end_session(self, "expired");
  } else
    arm_lease_timer(self, expires - now);
}

caf::behavior session_actor(self_ptr self, session_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.queue = session_queue{st.config.queue_max};
  touch(self);
  ignore_strays(self);
  arm_lease_timer(self, st.config.lease);
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& st = self->state;
    if (st.listener && down.source == st.listener.address()) {
      // The listener gave up (timeout or client gone). Nothing is lost: the
      // events stay queued until a cursor acknowledges them.
      st.listener = nullptr;
      touch(self);
    } else if (st.sink && down.source == st.sink.address()) {
      // The stream closed; the client resumes by eid. The lease runs again.
      st.sink = nullptr;
      reset_flow(st);
      touch(self);
    }
  });
  return {
      [self](event_atom, const event& e) {
        auto& st = self->state;
        // Keep the message we received, not a copy of the event: broadcasts are
        // shared by every queue that holds them.
        auto dropped_before = st.queue.dropped_total();
        st.queue.push(self->current_mailbox_element()->copy_content_to_message(), now_ms());
        if (auto dropped = st.queue.dropped_total() - dropped_before; dropped > 0)
          metrics().events_dropped->Increment(static_cast<double>(dropped));
        if (st.listener && st.queue.has_after(st.listener_cursor))
          answer_listener(self);
        else if (st.sink) {
          if (st.sink_paced) {
            // A live event: it counts against the reader until it is pushed.
            auto estimate = e.tail.size() + e.type.size() + 48;
            st.sink_live_waiting.emplace_back(st.queue.last_eid(), estimate);
            st.sink_live_waiting_bytes += estimate;
          }
          push_to_sink(self);
          if (st.sink_paced
              && st.sink_in_flight_bytes + st.sink_live_waiting_bytes > st.config.max_stream_buffer)
            end_sink(self, "slow_consumer",
                     "more than max-stream-buffer bytes waiting; resume by eid");
        }
      },
      [self](flushed_atom, std::uint64_t eid) {
        auto& st = self->state;
        if (!st.sink || caf::actor_cast<caf::actor>(self->current_sender()) != st.sink)
          return;
        while (!st.sink_in_flight.empty() && st.sink_in_flight.front().first <= eid) {
          st.sink_in_flight_bytes -= st.sink_in_flight.front().second;
          st.sink_in_flight.pop_front();
        }
        push_to_sink(self);
      },
      [self](listen_atom, std::uint64_t cursor, std::uint64_t max, bool wait) {
        auto& st = self->state;
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (!sender)
          return;
        touch(self);
        if (!st.queue.acknowledge(cursor)) {
          self->send(sender, deliver_atom::value, cursor_past_end(st, "params.cursor", cursor));
          return;
        }
        end_sink(self, "superseded", "a long-poll took over this session");
        if (st.listener && st.listener != sender)
          supersede_listener(self);
        else if (st.listener)
          self->demonitor(st.listener);
        st.listener = sender;
        st.listener_cursor = cursor;
        st.listener_max = max;
        if (!wait || st.draining || st.queue.has_after(cursor)) {
          answer_listener(self);
          return;
        }
        self->monitor(sender);
      },
      [self](join_atom, const std::string& name, const caf::actor& group,
             const since_point& since) -> caf::result<reply> {
        auto& st = self->state;
        touch(self);
        bool known = st.groups.count(name) != 0 || st.joining.count(name) != 0;
        if (!known && st.groups.size() + st.joining.size() >= st.config.max_groups)
          return make_failure("forbidden", "session is already in "
                                               + std::to_string(st.config.max_groups)
                                               + " groups (max-groups-per-session)");
        auto promise = self->make_response_promise<reply>();
        st.joining.insert(name);
        ask(self, group, join_atom::value, caf::actor{self}, st.config.user, since)
            .then(
                [self, name, group, promise](const reply& r) mutable {
                  self->state.joining.erase(name);
                  if (r.ok())
                    self->state.groups.emplace(name, group);
                  promise.deliver(r);
                },
                [self, name, promise](const caf::error&) mutable {
                  self->state.joining.erase(name);
                  promise.deliver(make_failure("unavailable", "group did not answer; retry"));
                });
        return promise;
      },
      [self](leave_atom, const std::string& name) -> reply {
        auto& st = self->state;
        touch(self);
        auto i = st.groups.find(name);
        if (i != st.groups.end()) {
          self->send(i->second, leave_atom::value, caf::actor{self}, std::string{"leave"});
          st.groups.erase(i);
        }
        return make_result("{\"ok\":true}");
      },
      [self](exit_atom) -> reply {
        end_session(self, "exit");
        return make_result("{\"ok\":true}");
      },
      [self](attach_atom, std::uint64_t cursor, bool paced, std::uint64_t connection,
             std::uint64_t generation) {
        auto& st = self->state;
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (!sender)
          return;
        touch(self);
        if (st.sink && st.sink != sender && connection != 0 && connection == st.sink_connection
            && generation < st.sink_generation) {
          // A stream its own connection already replaced, arriving late: it
          // must not supersede the newer one (the connection ignores it).
          self->send(sender, attach_atom::value,
                     make_failure("unavailable", "replaced by a newer stream of this connection"));
          return;
        }
        if (!st.queue.acknowledge(cursor)) {
          self->send(sender, attach_atom::value, cursor_past_end(st, "cursor", cursor));
          return;
        }
        if (st.listener)
          supersede_listener(self);
        if (st.sink != sender)
          end_sink(self, "superseded", "a newer stream took over this session");
        else
          self->demonitor(st.sink);
        st.sink = sender;
        st.sink_connection = connection;
        st.sink_generation = generation;
        st.sink_position = cursor;
        st.sink_paced = paced;
        reset_flow(st);
        self->monitor(sender);
        // Plain sends, so the attach answer arrives before the first batch.
        self->send(sender, attach_atom::value,
                   make_result("{\"session\":" + json_quote(st.config.id)
                               + ",\"cursor\":" + std::to_string(cursor) + "}"));
        push_to_sink(self);
        if (st.draining)
          end_sink(self, "draining", "node is draining; reconnect elsewhere");
      },
      [self](touch_atom) { touch(self); },
      [self](token_atom, std::int64_t expires_ms) {
        // The running timer fires at the old end at the latest and re-arms.
        self->state.config.token_expires_ms = expires_ms;
        touch(self);
      },
      [self](sample_atom) {
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (sender)
          self->send(sender, sample_atom::value, true, std::uint64_t{self->state.queue.size()},
                     std::uint64_t{self->mailbox().size()});
      },
      [self](lease_atom) { check_lease(self); },
      [self](drain_atom) {
        self->state.draining = true;
        answer_listener(self);
        end_sink(self, "draining", "node is draining; reconnect elsewhere");
      },
  };
}

} // namespace

caf::actor spawn_session_actor(caf::actor_system& system, session_config config) {
  return system.spawn(session_actor, std::move(config));
}

} // namespace herald
