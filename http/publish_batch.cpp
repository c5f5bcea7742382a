#include "http/publish_batch.hpp"

#include <utility>

namespace herald {

void publish_batch::add(publish_request request, answer_fn answer) {
  requests_.push_back(std::move(request));
  answers_.push_back(std::move(answer));
}

caf::actor publish_batch::spawn(server_context& ctx) {
  auto answers = std::exchange(answers_, {});
  return spawn_publish_actor(ctx.system, ctx.commands, std::exchange(requests_, {}),
                             [answers = std::move(answers)](std::vector<reply> replies) {
                               for (std::size_t i = 0; i < replies.size(); ++i)
                                 answers[i](replies[i]);
                             });
}

} // namespace herald
