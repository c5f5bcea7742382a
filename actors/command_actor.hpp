#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "actors/commands.hpp"
#include "actors/settings.hpp"
#include "actors/token_grant.hpp"

namespace herald {

/// What a command actor needs of its node.
struct command_context {
  caf::actor directory;
  std::shared_ptr<const settings> config;
  std::shared_ptr<const token_verifier> tokens; ///< null: authentication is off
};

/// Called once with one reply per command, in command order, from an actor
/// thread. Never called when the actor is killed first (client gone).
using command_completion = std::function<void(std::vector<reply>)>;

/// Spawns the request actor of one HTTP request: it runs `commands` one
/// after another (a `listen` waits for delivery or its timeout), calls `done`
/// and dies. Killing it (client disconnected) loses nothing: events stay
/// queued in their session until a cursor acknowledges them.
caf::actor spawn_command_actor(caf::actor_system& system, command_context context,
                               std::vector<command> commands, command_completion done);

/// Parameters of a server-side publish (`POST /v1/publish`).
struct publish_request {
  std::vector<std::string> groups; ///< publish to these groups, or
  std::string user;                ///< send a direct event to this user
  std::string from = "server";
  std::string data;            ///< serialized JSON
  std::string idempotency_key; ///< from the Idempotency-Key header; empty: none
};

/// Spawns a request actor that performs `requests` one after another, in
/// order, and calls `done` with their replies (one per request, in order).
/// Pipelined publishes of one connection share one actor: one spawn and one
/// hand-off between threads per batch instead of per request.
caf::actor spawn_publish_actor(caf::actor_system& system, command_context context,
                               std::vector<publish_request> requests, command_completion done);

} // namespace herald
