#include "actors/sink_actor.hpp"

#include <atomic>
#include <random>

#include "actors/answer_timeout.hpp"

namespace herald {

namespace {

struct sink_state {
  caf::actor session;
  sink_callback callback;
  static inline const char* name = "herald.sink";
};

using self_ptr = caf::stateful_actor<sink_state>*;

void finish(self_ptr self, std::string reason, std::string message) {
  sink_signal signal;
  signal.what = sink_signal::kind::ended;
  signal.end = stream_end{std::move(reason), std::move(message)};
  self->state.callback(std::move(signal));
  self->quit();
}

caf::behavior sink_actor(self_ptr self, caf::actor directory, std::string session_id,
                         std::uint64_t cursor, sink_callback callback, bool paced,
                         stream_owner owner) {
  self->state.callback = std::move(callback);
  self->set_down_handler([self](const caf::down_msg& down) {
    if (down.source == self->state.session.address())
      finish(self, "ended", "session ended");
  });
  ask(self, directory, lookup_atom::value, session_id)
      .then(
          [self, session_id, cursor, paced, owner](const session_ref& ref) {
            if (!ref.handle) {
              finish(self, "unknown_session", "unknown session \"" + session_id + "\"");
              return;
            }
            self->state.session = ref.handle;
            self->monitor(ref.handle);
            self->send(ref.handle, attach_atom::value, cursor, paced, owner.connection,
                       owner.generation);
          },
          [self](const caf::error& err) { finish(self, "internal", self->system().render(err)); });
  return {
      [self](attach_atom, reply& answer) {
        bool ok = answer.ok();
        sink_signal signal;
        signal.what = sink_signal::kind::attached;
        signal.attach = std::move(answer);
        self->state.callback(std::move(signal));
        if (!ok) {
          self->demonitor(self->state.session);
          self->quit();
        }
      },
      [self](deliver_atom, stream_batch& batch) {
        sink_signal signal;
        signal.what = sink_signal::kind::batch;
        signal.batch = std::move(batch);
        self->state.callback(std::move(signal));
      },
      [self](flushed_atom, std::uint64_t eid) {
        // From the connection: everything up to eid is written; more may come.
        if (self->state.session)
          self->send(self->state.session, flushed_atom::value, eid);
      },
      [self](end_atom, stream_end& end) {
        self->demonitor(self->state.session);
        finish(self, std::move(end.reason), std::move(end.message));
      },
  };
}

} // namespace

caf::actor spawn_sink_actor(caf::actor_system& system, caf::actor directory, std::string session_id,
                            std::uint64_t cursor, sink_callback callback, bool paced,
                            stream_owner owner) {
  return system.spawn(sink_actor, std::move(directory), std::move(session_id), cursor,
                      std::move(callback), paced, owner);
}

std::uint64_t make_connection_id() {
  static std::atomic<std::uint64_t> next{std::random_device{}() | 1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

} // namespace herald
