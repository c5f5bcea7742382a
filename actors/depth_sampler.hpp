#pragma once

#include <chrono>
#include <functional>

#include <caf/all.hpp>

#include "metrics/depth_sample.hpp"

namespace herald {

/// Called once, on an actor thread, with what the sample found.
using sample_callback = std::function<void(depth_sample)>;

/// Spawns the actor that samples queue and mailbox depths for one scrape: it
/// asks the directory for every session and group, asks each of them, and
/// calls `done` when all have answered or `deadline` passed (those that did
/// not answer are counted in `unanswered`). One message per actor and scrape;
/// the directory only lists handles, so a slow session cannot delay it.
///
/// A mailbox's depth is read when the actor handles the sample message, so
/// it counts what arrived while that message waited its turn: under steady
/// load, about the backlog the message found.
caf::actor spawn_depth_sampler(caf::actor_system& system, caf::actor directory,
                               std::chrono::milliseconds deadline, sample_callback done);

} // namespace herald
