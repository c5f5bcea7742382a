#pragma once

#include <chrono>
#include <utility>

#include <caf/all.hpp>

namespace herald {

/// How long an actor waits for the answer to a request it sends `dest`.
///
/// A local actor always answers: ours reply to every request, and CAF
/// bounces whatever is still in the mailbox of an actor that ends with
/// `request_receiver_down`. So a local request gets no timeout at all. In
/// CAF 0.17 a timeout costs on the hot path: setting it wakes the clock
/// thread (a context switch per request on a busy core), and it is not
/// cancelled by the answer, only when the requester ends, so a long-lived
/// actor keeps the entry until it fires. Only a remote actor, whose node may
/// vanish without a word, is given `remote`.
inline caf::duration answer_timeout(const caf::local_actor* self, const caf::actor& dest,
                                    std::chrono::seconds remote = std::chrono::seconds{30}) {
  if (dest && dest.node() != self->home_system().node())
    return caf::duration{remote};
  return caf::infinite;
}

/// `self->request(dest, answer_timeout(self, dest), xs...)`.
template <class Self, class... Ts>
auto ask(Self* self, const caf::actor& dest, Ts&&... xs) {
  return self->request(dest, answer_timeout(self, dest), std::forward<Ts>(xs)...);
}

} // namespace herald
