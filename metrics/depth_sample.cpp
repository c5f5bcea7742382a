#include "metrics/depth_sample.hpp"

#include <algorithm>

namespace herald {

namespace {

// Queues hold at most queue-max events (1000 by default); mailboxes can grow
// without bound under overload, hence the longer tail.
std::vector<double> queue_bounds() {
  return {0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
}

std::vector<double> mailbox_bounds() {
  return {0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000, 50000, 100000};
}

} // namespace

void depth_distribution::add(std::uint64_t depth) {
  auto value = static_cast<double>(depth);
  auto bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  ++counts[static_cast<std::size_t>(bucket)];
  ++total;
  sum += depth;
  max = std::max(max, depth);
}

depth_sample::depth_sample()
    : session_queue(queue_bounds()), session_mailbox(mailbox_bounds()),
      group_mailbox(mailbox_bounds()) {
  // nop
}

} // namespace herald
