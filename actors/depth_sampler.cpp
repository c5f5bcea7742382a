#include "actors/depth_sampler.hpp"

#include "actors/log.hpp"
#include "actors/messages.hpp"

namespace herald {

namespace {

struct sampler_state {
  depth_sample sample;
  std::uint64_t waiting = 0;
  sample_callback done;
  static inline const char* name = "herald.depth_sampler";
};

using self_ptr = caf::stateful_actor<sampler_state>*;

void complete(self_ptr self) {
  auto& st = self->state;
  st.sample.unanswered = st.waiting;
  if (st.done)
    st.done(std::move(st.sample));
  st.done = nullptr;
  self->quit();
}

caf::behavior depth_sampler(self_ptr self, caf::actor directory, std::chrono::milliseconds deadline,
                            sample_callback done) {
  self->state.done = std::move(done);
  self->delayed_send(self, deadline, timeout_atom::value);
  self->request(directory, deadline, sample_atom::value)
      .then(
          [self](const std::vector<caf::actor>& sessions, const std::vector<caf::actor>& groups,
                 std::uint64_t directory_mailbox) {
            auto& st = self->state;
            st.sample.directory_mailbox = directory_mailbox;
            st.waiting = sessions.size() + groups.size();
            for (const auto& session : sessions)
              self->send(session, sample_atom::value);
            for (const auto& group : groups)
              self->send(group, sample_atom::value);
            if (st.waiting == 0)
              complete(self);
          },
          [self](const caf::error& err) {
            log::warn("metrics: the directory did not answer the depth sample",
                      {{"error", self->system().render(err)}});
            complete(self);
          });
  return {
      [self](sample_atom, bool is_session, std::uint64_t queue, std::uint64_t mailbox) {
        auto& st = self->state;
        if (is_session) {
          st.sample.session_queue.add(queue);
          st.sample.session_mailbox.add(mailbox);
        } else {
          st.sample.group_mailbox.add(mailbox);
        }
        if (st.waiting > 0 && --st.waiting == 0)
          complete(self);
      },
      [self](timeout_atom) { complete(self); },
  };
}

} // namespace

caf::actor spawn_depth_sampler(caf::actor_system& system, caf::actor directory,
                               std::chrono::milliseconds deadline, sample_callback done) {
  return system.spawn(depth_sampler, std::move(directory), deadline, std::move(done));
}

} // namespace herald
