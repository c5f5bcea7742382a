#pragma once

#include <cstdint>
#include <vector>

namespace herald {

/// The distribution of one depth (queue length, mailbox length) over the
/// actors that answered a sample, with its maximum.
struct depth_distribution {
  explicit depth_distribution(std::vector<double> bounds) : bounds(std::move(bounds)) {
    counts.assign(this->bounds.size() + 1, 0);
  }

  void add(std::uint64_t depth);

  std::vector<double> bounds;        ///< bucket upper bounds (inclusive)
  std::vector<std::uint64_t> counts; ///< per bucket, the last one is +Inf
  std::uint64_t total = 0;           ///< number of actors
  std::uint64_t sum = 0;
  std::uint64_t max = 0;
};

/// What one scrape learned by asking every session and group of the node.
struct depth_sample {
  depth_sample();

  depth_distribution session_queue;   ///< events queued per session
  depth_distribution session_mailbox; ///< messages waiting in session actors' mailboxes
  depth_distribution group_mailbox;   ///< messages waiting in group actors' mailboxes
  std::uint64_t directory_mailbox = 0;
  std::uint64_t unanswered = 0; ///< actors that did not answer in time
};

} // namespace herald
