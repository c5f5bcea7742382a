#pragma once

#include <functional>
#include <vector>

#include <caf/all.hpp>

#include "actors/command_actor.hpp"
#include "http/server_context.hpp"

namespace herald {

/// The `POST /v1/publish` requests of one connection that arrived pipelined,
/// gathered so that one request actor performs them all, in their order.
/// Per request, a spawn and two hand-offs between the I/O and actor threads
/// cost more than the publish itself; per batch they are paid once.
class publish_batch {
public:
  using answer_fn = std::function<void(const reply&)>;

  void add(publish_request request, answer_fn answer);

  bool empty() const { return requests_.empty(); }

  /// Spawns the request actor for what was added and empties the batch;
  /// each answer is called with its own reply, in order.
  caf::actor spawn(server_context& ctx);

private:
  std::vector<publish_request> requests_;
  std::vector<answer_fn> answers_;
};

} // namespace herald
